package org.openstage.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.huaweicloud.sdk.core.exception.ClientRequestException;
import com.huaweicloud.sdk.servicestage.v3.ServiceStageClient;
import com.huaweicloud.sdk.servicestage.v3.model.*;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** ServiceStage v3 (huaweicloud-sdk-servicestage, ServiceStageClient v3): every operation of the client. */
class ServiceStageTest {
    private final ServiceStageClient c = OpenStage.client(ServiceStageClient.newBuilder());

    @Test
    void environmentsApplicationsConfigurationAndStacks() {
        String envName = OpenStage.name("jenv");
        // Issue #18 item 13: an empty enterprise_project_id means the default one.
        CreateEnvironmentResponse env = c.createEnvironment(new CreateEnvironmentRequest().withBody(new EnvironmentCreate().withName(envName)
            .withVpcId("vpc-java").withDeployMode(EnvironmentCreate.DeployModeEnum.VIRTUALMACHINE).withEnterpriseProjectId("")));
        assertEquals("0", env.getEnterpriseProjectId());
        assertEquals(envName, c.showEnvironmentInfo(new ShowEnvironmentInfoRequest().withEnvironmentId(env.getId())).getName());
        assertTrue(c.showEnvironments(new ShowEnvironmentsRequest().withName(envName)).getEnvironments().stream().anyMatch(e -> e.getId().equals(env.getId())));
        assertEquals("second", c.modifyEnvironment(new ModifyEnvironmentRequest().withEnvironmentId(env.getId())
            .withBody(new EnvironmentModify().withName(envName).withDescription("second"))).getDescription());
        ModifyResourceInEnvironmentResponse bound = c.modifyResourceInEnvironment(new ModifyResourceInEnvironmentRequest().withEnvironmentId(env.getId())
            .withBody(new EnvironmentResourceModify().withResources(List.of(new Resource().withId("default").withType(ResourceType.CSE).withName("cse")))));
        assertEquals("default", bound.getResources().get(0).getId());
        assertEquals(List.of("default"), c.showEnvironmentResources(new ShowEnvironmentResourcesRequest().withEnvironmentId(env.getId()))
            .getResources().stream().map(Resource::getId).toList());

        String appName = OpenStage.name("japp");
        CreateApplicationResponse app = c.createApplication(new CreateApplicationRequest().withBody(new ApplicationCreate().withName(appName).withEnterpriseProjectId("")));
        assertEquals(appName, c.showApplicationInfo(new ShowApplicationInfoRequest().withApplicationId(app.getId())).getName());
        assertTrue(c.showApplications(new ShowApplicationsRequest().withLimit(100)).getApplications().stream().anyMatch(a -> a.getId().equals(app.getId())));
        assertEquals("described", c.modifyApplication(new ModifyApplicationRequest().withApplicationId(app.getId())
            .withBody(new ApplicationModify().withName(appName).withDescription("described"))).getDescription());
        c.modifyApplicationConfiguration(new ModifyApplicationConfigurationRequest().withApplicationId(app.getId()).withBody(new ApplicationConfigModify()
            .withEnvironmentId(env.getId()).withConfiguration(new ApplicationConfigModifyConfiguration()
                .withEnv(List.of(new ApplicationConfigModifyConfigurationEnv().withName("STAGE").withValue("java"))))));
        ShowApplicationConfigurationResponse conf = c.showApplicationConfiguration(new ShowApplicationConfigurationRequest().withApplicationId(app.getId()).withEnvironmentId(env.getId()));
        assertEquals("java", conf.getConfiguration().get(0).getConfiguration().getEnv().get(0).getValue());
        c.deleteApplicationConfiguration(new DeleteApplicationConfigurationRequest().withApplicationId(app.getId()).withEnvironmentId(env.getId()));

        ShowRuntimeStacksResponse stacks = c.showRuntimeStacks(new ShowRuntimeStacksRequest());
        assertTrue(stacks.getRuntimestacks().stream().anyMatch(s -> "Nodejs".equals(String.valueOf(s.getType()))));

        c.deleteApplication(new DeleteApplicationRequest().withApplicationId(app.getId()));
        c.deleteEnvironment(new DeleteEnvironmentRequest().withEnvironmentId(env.getId()));
        ClientRequestException gone = assertThrows(ClientRequestException.class, () -> c.showEnvironmentInfo(new ShowEnvironmentInfoRequest().withEnvironmentId(env.getId())));
        assertEquals("SVCSTG.00100401", gone.getErrorCode());
    }

    @Test
    void componentCreatePollScaleUpgradeRecordsDelete() throws Exception {
        String pkg = Path.of(System.getenv("OPENSTAGE_NODE_HELLO_TGZ")).toUri().toString();
        CreateEnvironmentResponse env = c.createEnvironment(new CreateEnvironmentRequest().withBody(new EnvironmentCreate().withName(OpenStage.name("jenv")).withVpcId("vpc-java")));
        CreateApplicationResponse app = c.createApplication(new CreateApplicationRequest().withBody(new ApplicationCreate().withName(OpenStage.name("japp"))));
        String name = OpenStage.name("jweb");
        RuntimeStack stack = new RuntimeStack().withName("Nodejs20").withType("Nodejs").withVersion("1.0.0").withDeployMode(RuntimeStack.DeployModeEnum.VIRTUALMACHINE);
        SourceObject source = new SourceObject().withKind(SourceKind.PACKAGE).withStorage(SourceObject.StorageEnum.OBS).withUrl(pkg);
        ComponentProbe probe = new ComponentProbe().withType(ComponentProbe.TypeEnum.HTTP).withPath("/health").withTimeout(2);
        CreateComponentResponse created = c.createComponent(new CreateComponentRequest().withApplicationId(app.getId()).withBody(new ComponentCreate()
            .withName(name).withRuntimeStack(stack).withSource(source).withReplica(1).withVersion("1.0.0").withEnvironmentId(env.getId())
            .withReferResources(List.of()).withReadinessProbe(probe)));
        String id = created.getComponentId();
        assertEquals("SUCCEEDED", waitJob(created.getJobId()));

        ShowComponentInfoResponse info = c.showComponentInfo(new ShowComponentInfoRequest().withApplicationId(app.getId()).withComponentId(id));
        assertEquals(name, info.getName());
        assertEquals("RUNNING", String.valueOf(info.getStatus().getComponentStatus()));
        assertEquals(1, c.showComponentsInApplication(new ShowComponentsInApplicationRequest().withApplicationId(app.getId())).getCount());
        assertEquals(List.of(id), c.showComponents(new ShowComponentsRequest().withComponentName(name)).getComponents().stream().map(ComponentList::getId).toList());

        UpdateComponentActionResponse scaled = c.updateComponentAction(new UpdateComponentActionRequest().withApplicationId(app.getId()).withComponentId(id)
            .withBody(new ComponentAction().withAction(ComponentActionType.SCALE).withParameters(new ComponentActionParameters().withReplica(2))));
        assertEquals("SUCCEEDED", waitJob(scaled.getJobId()));
        // Issue #18 item 6: the SDK enum's gray actions are known; refused here only because no gray release runs.
        ClientRequestException noGray = assertThrows(ClientRequestException.class, () -> c.updateComponentAction(new UpdateComponentActionRequest()
            .withApplicationId(app.getId()).withComponentId(id).withBody(new ComponentAction().withAction(ComponentActionType.CHECK_GRAY_RELEASE))));
        assertEquals("SVCSTG.00100400", noGray.getErrorCode());

        ModifyComponentResponse upgraded = c.modifyComponent(new ModifyComponentRequest().withApplicationId(app.getId()).withComponentId(id).withBody(new ComponentModify()
            .withName(name).withRuntimeStack(stack).withSource(source).withReplica(2).withVersion("1.1.0").withReferResources(List.of()).withReadinessProbe(probe)));
        assertEquals("SUCCEEDED", waitJob(upgraded.getJobId()));
        ShowComponentRecordsResponse records = c.showComponentRecords(new ShowComponentRecordsRequest().withApplicationId(app.getId()).withComponentId(id));
        assertEquals(List.of("upgrade", "scale", "deploy"), records.getRecords().stream().map(ComponentRecordView::getDeployType).toList());
        assertEquals(Boolean.TRUE, records.getRecords().get(0).getCurrentUsed());

        c.deleteComponent(new DeleteComponentRequest().withApplicationId(app.getId()).withComponentId(id));
        long deadline = System.currentTimeMillis() + 60_000;
        while (true) {
            try {
                c.showComponentInfo(new ShowComponentInfoRequest().withApplicationId(app.getId()).withComponentId(id));
            } catch (ClientRequestException e) {
                assertEquals("SVCSTG.00100401", e.getErrorCode());
                break;
            }
            assertTrue(System.currentTimeMillis() < deadline, "component never removed");
            Thread.sleep(500);
        }
        c.deleteApplication(new DeleteApplicationRequest().withApplicationId(app.getId()));
        c.deleteEnvironment(new DeleteEnvironmentRequest().withEnvironmentId(env.getId()));
    }

    private String waitJob(String jobId) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 300_000;
        while (true) {
            ShowJobInfoResponse job = c.showJobInfo(new ShowJobInfoRequest().withJobId(jobId));
            String status = String.valueOf(job.getJob().getExecutionStatus());
            if (!"RUNNING".equals(status)) {
                return status;
            }
            assertTrue(System.currentTimeMillis() < deadline, "job " + jobId + " still RUNNING");
            Thread.sleep(500);
        }
    }
}
