"""CSE engine management (servicecomb.md §4.2) driven by the official huaweicloudsdkcse client.

Lists flavors, creates an exclusive RBAC engine, polls its Create job to Finished, reads the
engine (Available, its own service center address, the flavor's instance quota), gets an
engine RBAC token through the SDK's signed do_http_request, deletes the engine and polls
until the engine is gone (400 SVCSTG.00501116, what the Terraform provider reads as
deleted). Settings come from compat/run-python.sh: OPENSTAGE_URL, OPENSTAGE_ACCESS_KEY,
OPENSTAGE_SECRET_KEY, OPENSTAGE_PROJECT_ID.
"""
import json
import pathlib
import tempfile
import time
import urllib.request

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcse.v1 import (
    CreateEngineRequest,
    CseClient,
    DeleteEngineRequest,
    EngineCreateReq,
    EngineRbacPwd,
    ListEnginesRequest,
    ListFlavorsRequest,
    ShowEngineJobRequest,
    ShowEngineRequest,
)

from openstage_env import AK, PROJECT_ID, SK, URL, sdk_client


def client():
    return sdk_client(CseClient)


def wait(what, check, timeout_s=60):
    deadline = time.time() + timeout_s
    while True:
        value = check()
        if value is not None:
            return value
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


def test_list_flavors():
    r = client().list_flavors(ListFlavorsRequest(spec_type="CSE2"))
    assert r.total == 4
    assert [f.flavor for f in r.data] == ["cse.s1.small2", "cse.s1.medium2", "cse.s1.large2", "cse.s1.xlarge2"]


def test_list_engines_shows_the_built_in_engine():
    r = client().list_engines(ListEnginesRequest(offset=0, limit="10", type="ALL"))
    default = [e for e in r.data if e.id == "default"]
    assert len(default) == 1
    assert default[0].status == "Available"
    assert default[0].service_endpoint["serviceCenter"].master_entrypoint == URL


def test_unknown_engine_is_400_svcstg_00501116():
    with pytest.raises(ClientRequestException) as info:
        client().show_engine(ShowEngineRequest(engine_id="no-such-engine"))
    assert info.value.status_code == 400
    assert info.value.error_code == "SVCSTG.00501116"


def test_create_poll_and_delete_an_engine():
    c = client()
    name = "py" + hex(int(time.time() * 1000))[-8:]
    body = EngineCreateReq(name=name, payment="1", flavor="cse.s1.small2", az_list=["az1"], auth_type="RBAC",
                           vpc="vpc-1", network_id="net-1", subnet_cidr="192.168.0.0/24",
                           auth_cred=EngineRbacPwd(pwd="Compat-Engine-Pw0rd!"), spec_type="CSE2")
    created = c.create_engine(CreateEngineRequest(body=body))
    assert created.name == name
    assert isinstance(created.job_id, int)
    engine_id = created.id
    try:
        def finished():
            job = c.show_engine_job(ShowEngineJobRequest(engine_id=engine_id, job_id=str(created.job_id)))
            return job if job.status in ("Finished", "Error", "Timeout") else None

        job = wait("create job", finished)
        assert job.status == "Finished", [t.tasks[0].log for t in job.tasks]
        assert job.type == "Create"
        assert [t.status for t in job.tasks] == ["Finished"] * 3

        shown = c.show_engine(ShowEngineRequest(engine_id=engine_id))
        assert shown.status == "Available"
        assert shown.be_default is False
        assert shown.auth_type == "RBAC"
        assert shown.reference.instance_limit == "100"
        registry = shown.external_entrypoint.service_endpoint["serviceCenter"].master_entrypoint
        assert registry != URL

        # An engine RBAC token through the signed generic call (no typed method in the SDK).
        token = c.do_http_request("POST", "/v2/{project_id}/enginemgr/engines/" + engine_id + "/tokens", path_params={},
                                  query_params=[], header_params={"Content-Type": "application/json"}, body={},
                                  response_type="UploadKieResponse", response_headers=[])
        assert token.status_code == 200
        rbac_token = json.loads(token.raw_content)["token"]
        req = urllib.request.Request(registry + "/v4/default/registry/microservices", headers={"Authorization": "Bearer " + rbac_token})
        with urllib.request.urlopen(req, timeout=5) as res:
            assert res.status == 200

        # Issue #18 item 5: an import aimed at this RBAC engine (x-engine-id) lands in its config
        # center, project default, where its chassis clients read; export reads it back.
        from huaweicloudsdkcore.http.formdata import FormFile
        from huaweicloudsdkcse.v1 import DownloadKieReqBody, DownloadKieRequest, UploadKieRequest, UploadKieRequestBody
        kie_file = pathlib.Path(tempfile.mkdtemp()) / "kie.json"
        kie_file.write_text(json.dumps({"data": [{"key": "py.engine", "value": "v", "labels": {"app": "pyeng"}}]}))
        with open(kie_file, "rb") as f:
            up = c.upload_kie(UploadKieRequest(x_engine_id=engine_id, override="force", body=UploadKieRequestBody(upload_file=FormFile(f))))
        assert [kv.key for kv in up.success] == ["py.engine"]
        kv_req = urllib.request.Request(registry + "/v1/default/kie/kv?label=app:pyeng", headers={"Authorization": "Bearer " + rbac_token})
        with urllib.request.urlopen(kv_req, timeout=5) as res:
            assert [kv["value"] for kv in json.loads(res.read())["data"]] == ["v"]
        down = c.download_kie(DownloadKieRequest(x_engine_id=engine_id, label="app:pyeng", body=DownloadKieReqBody()))
        assert [(kv.id, kv.key) for kv in down.data] == [(up.success[0].id, "py.engine")]
    finally:
        deleted = c.delete_engine(DeleteEngineRequest(engine_id=engine_id))
        assert deleted.id == engine_id

        def gone():
            try:
                c.show_engine_job(ShowEngineJobRequest(engine_id=engine_id, job_id=str(deleted.job_id)))
                return None
            except ClientRequestException as e:
                return e if e.error_code == "SVCSTG.00501116" else None

        assert wait("delete job", gone).status_code == 400
