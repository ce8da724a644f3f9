package org.openstage.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.huaweicloud.sdk.core.exception.ClientRequestException;
import com.huaweicloud.sdk.cse.v1.CseClient;
import com.huaweicloud.sdk.cse.v1.model.CreateEngineRequest;
import com.huaweicloud.sdk.cse.v1.model.CreateEngineResponse;
import com.huaweicloud.sdk.cse.v1.model.DeleteEngineRequest;
import com.huaweicloud.sdk.cse.v1.model.DownloadKieReqBody;
import com.huaweicloud.sdk.cse.v1.model.DownloadKieRequest;
import com.huaweicloud.sdk.cse.v1.model.DownloadKieResponse;
import com.huaweicloud.sdk.cse.v1.model.EngineCreateReq;
import com.huaweicloud.sdk.cse.v1.model.ListEnginesRequest;
import com.huaweicloud.sdk.cse.v1.model.ListEnginesResponse;
import com.huaweicloud.sdk.cse.v1.model.ListFlavorsRequest;
import com.huaweicloud.sdk.cse.v1.model.ListFlavorsResponse;
import com.huaweicloud.sdk.cse.v1.model.ShowEngineJobRequest;
import com.huaweicloud.sdk.cse.v1.model.ShowEngineJobResponse;
import com.huaweicloud.sdk.cse.v1.model.ShowEngineRequest;
import com.huaweicloud.sdk.cse.v1.model.ShowEngineResponse;
import com.huaweicloud.sdk.cse.v1.model.UploadKieRequest;
import com.huaweicloud.sdk.cse.v1.model.UploadKieRequestBody;
import com.huaweicloud.sdk.cse.v1.model.UploadKieResponse;
import com.huaweicloud.sdk.core.http.FormDataFilePart;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** CSE v1 (huaweicloud-sdk-cse): engines and configuration import/export. */
class CseTest {
    private final CseClient cse = OpenStage.client(CseClient.newBuilder());

    @Test
    void listsFlavorsAndReadsTheBuiltInEngine() {
        ListFlavorsResponse flavors = cse.listFlavors(new ListFlavorsRequest().withSpecType("CSE2"));
        assertEquals(4, flavors.getTotal());
        // Issue #18 item 4: reference.serviceLimit / instanceLimit are strings on the wire; the
        // Java SDK models them as Integer and reads them.
        ListEnginesResponse engines = cse.listEngines(new ListEnginesRequest());
        assertTrue(engines.getTotal() >= 1);
        assertEquals("default", engines.getData().get(0).getId());
        ShowEngineResponse engine = cse.showEngine(new ShowEngineRequest().withEngineId("default"));
        assertEquals("Available", engine.getStatus().getValue());
        assertNotNull(engine.getReference().getInstanceLimit());
        assertEquals(50000, engine.getReference().getServiceLimit());
    }

    @Test
    void createsWaitsForAndDeletesAnExclusiveEngine() throws Exception {
        CreateEngineResponse created = cse.createEngine(new CreateEngineRequest().withBody(new EngineCreateReq()
            .withName(OpenStage.name("j")).withPayment(EngineCreateReq.PaymentEnum.fromValue("1")).withFlavor(EngineCreateReq.FlavorEnum.fromValue("cse.s1.small2"))
            .withAzList(List.of("az1")).withAuthType(EngineCreateReq.AuthTypeEnum.NONE).withVpc("vpc-1").withNetworkId("net-1")
            .withSubnetCidr("192.168.0.0/24").withSpecType(EngineCreateReq.SpecTypeEnum.fromValue("CSE2"))));
        String id = created.getId();
        ShowEngineJobResponse job = waitJob(id, String.valueOf(created.getJobId()));
        assertEquals("Finished", String.valueOf(job.getStatus()));
        ShowEngineResponse shown = cse.showEngine(new ShowEngineRequest().withEngineId(id));
        assertEquals(100, shown.getReference().getInstanceLimit());

        // Issue #18 item 5: an import aimed at the engine (x-engine-id) lands there, and export reads it back.
        UploadKieResponse uploaded = cse.uploadKie(new UploadKieRequest().withXEngineId(id).withOverride(UploadKieRequest.OverrideEnum.FORCE)
            .withBody(new UploadKieRequestBody().withUploadFile(new FormDataFilePart(new ByteArrayInputStream(
                "{\"data\":[{\"key\":\"java.engine\",\"value\":\"v\",\"labels\":{\"app\":\"java\"}}]}".getBytes(StandardCharsets.UTF_8)), "kie.json"))));
        assertEquals(1, uploaded.getSuccess().size());
        DownloadKieResponse inEngine = cse.downloadKie(new DownloadKieRequest().withXEngineId(id).withLabel("app:java").withBody(new DownloadKieReqBody()));
        assertEquals(List.of("java.engine"), inEngine.getData().stream().map(k -> k.getKey()).toList());
        DownloadKieResponse builtIn = cse.downloadKie(new DownloadKieRequest().withXEngineId("default").withLabel("app:java").withBody(new DownloadKieReqBody()));
        assertTrue(builtIn.getData() == null || builtIn.getData().isEmpty(), "not in the built-in engine");

        long deleteJob = cse.deleteEngine(new DeleteEngineRequest().withEngineId(id)).getJobId();
        assertTrue(deleteJob > created.getJobId());
        long deadline = System.currentTimeMillis() + 60_000;
        while (true) {
            ClientRequestException gone = null;
            try {
                cse.showEngine(new ShowEngineRequest().withEngineId(id));
            } catch (ClientRequestException e) {
                gone = e;
            }
            if (gone != null) {
                assertEquals("SVCSTG.00501116", gone.getErrorCode());
                break;
            }
            assertTrue(System.currentTimeMillis() < deadline, "engine never removed");
            Thread.sleep(300);
        }
    }

    @Test
    void importsAndExportsConfigurationOfTheBuiltInEngine() {
        String key = OpenStage.name("k");
        String file = "{\"data\":[{\"key\":\"" + key + "\",\"value\":\"1\",\"labels\":{\"app\":\"jsdk\"},\"status\":\"enabled\"},"
            + "{\"key\":\"bad key\",\"value\":\"x\"}]}";
        UploadKieResponse r = cse.uploadKie(new UploadKieRequest().withXEngineId("default").withOverride(UploadKieRequest.OverrideEnum.FORCE)
            .withLabel("env:java").withBody(new UploadKieRequestBody().withUploadFile(new FormDataFilePart(new ByteArrayInputStream(file.getBytes(StandardCharsets.UTF_8)), "kie.json"))));
        assertEquals(1, r.getSuccess().size());
        // Issue #18 item 2: failure[].error_code is a string the SDK model reads.
        assertEquals("400001", r.getFailure().get(0).getErrorCode());
        UploadKieResponse skipped = cse.uploadKie(new UploadKieRequest().withXEngineId("default").withOverride(UploadKieRequest.OverrideEnum.SKIP)
            .withLabel("env:java").withBody(new UploadKieRequestBody().withUploadFile(new FormDataFilePart(new ByteArrayInputStream(file.getBytes(StandardCharsets.UTF_8)), "kie.json"))));
        assertEquals("400004", skipped.getFailure().get(0).getErrorCode());

        DownloadKieResponse exported = cse.downloadKie(new DownloadKieRequest().withXEngineId("default").withLabel("app:jsdk").withBody(new DownloadKieReqBody()));
        assertEquals(1, exported.getData().size());
        // Issue #18 item 8: data[].id.
        assertEquals(r.getSuccess().get(0).getId(), exported.getData().get(0).getId());
        DownloadKieResponse byId = cse.downloadKie(new DownloadKieRequest().withXEngineId("default").withBody(new DownloadKieReqBody().withIds(List.of(exported.getData().get(0).getId()))));
        assertEquals(key, byId.getData().get(0).getKey());

        ClientRequestException bad = assertThrows(ClientRequestException.class, () -> cse.downloadKie(new DownloadKieRequest().withXEngineId("no-such-engine").withBody(new DownloadKieReqBody())));
        // Issue #18 item 10: the error parses in the SDK's handler (error_code beside Kie's errorCode).
        assertEquals("SVCSTG.00501116", bad.getErrorCode());
        assertFalse(bad.getErrorMsg().isEmpty());
    }

    private ShowEngineJobResponse waitJob(String engineId, String jobId) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 120_000;
        while (true) {
            ShowEngineJobResponse job = cse.showEngineJob(new ShowEngineJobRequest().withEngineId(engineId).withJobId(jobId));
            if (List.of("Finished", "Error", "Timeout").contains(String.valueOf(job.getStatus()))) {
                return job;
            }
            assertTrue(System.currentTimeMillis() < deadline, "engine job " + jobId + " still " + job.getStatus());
            Thread.sleep(500);
        }
    }
}
