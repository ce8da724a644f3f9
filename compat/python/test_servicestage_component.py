"""ServiceStage v3 components driven by the official Huawei Cloud Python SDK
(huaweicloudsdkservicestage, ServiceStageClient v3): create a Nodejs component from a
file:// .tar.gz of examples/node-hello (source kind package), poll the job with
show_job_info until SUCCEEDED, read it back with every typed read, scale it with the action
API, upgrade it, and delete it. Real processes run on the OpenStage host.

Settings come from compat/run-python.sh: OPENSTAGE_URL, OPENSTAGE_ACCESS_KEY,
OPENSTAGE_SECRET_KEY, OPENSTAGE_PROJECT_ID.
"""
import time
import urllib.request
import uuid
import json

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkservicestage.v3 import (
    ApplicationCreate,
    ComponentAction,
    ComponentActionParameters,
    ComponentCreate,
    ComponentEnvironment,
    ComponentModify,
    ComponentProbe,
    CreateApplicationRequest,
    CreateComponentRequest,
    CreateEnvironmentRequest,
    DeleteApplicationRequest,
    DeleteComponentRequest,
    DeleteEnvironmentRequest,
    EnvironmentCreate,
    ModifyComponentRequest,
    RuntimeStack,
    ServiceStageClient,
    ShowComponentInfoRequest,
    ShowComponentRecordsRequest,
    ShowComponentsInApplicationRequest,
    ShowComponentsRequest,
    ShowJobInfoRequest,
    SourceObject,
    UpdateComponentActionRequest,
)

from openstage_env import AK, PROJECT_ID, SK, URL, sdk_client


def client():
    return sdk_client(ServiceStageClient)


def name(prefix):
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def wait_job(c, job_id, timeout=180):
    deadline = time.time() + timeout
    while True:
        job = c.show_job_info(ShowJobInfoRequest(job_id=job_id))
        if job.job.execution_status != "RUNNING":
            return job
        assert time.time() < deadline, f"job {job_id} still RUNNING"
        time.sleep(0.5)


def test_component_create_poll_scale_upgrade_delete(package):
    c = client()
    env_id = c.create_environment(CreateEnvironmentRequest(body=EnvironmentCreate(name=name("sdkenv"), vpc_id="vpc-sdk"))).id
    app = c.create_application(CreateApplicationRequest(body=ApplicationCreate(name=name("sdkapp"))))
    comp_name = name("sdkweb")
    stack = RuntimeStack(name="Nodejs20", type="Nodejs", version="1.0.0", deploy_mode="virtualmachine")
    source = SourceObject(kind="package", storage="obs", url=package)
    probe = ComponentProbe(type="http", path="/health", timeout=2)
    body = ComponentCreate(name=comp_name, runtime_stack=stack, source=source, replica=1, version="1.0.0", environment_id=env_id,
                           refer_resources=[], envs=[ComponentEnvironment(name="GREETING", value="hi")], readiness_probe=probe)
    component_id = None
    try:
        created = c.create_component(CreateComponentRequest(application_id=app.id, body=body))
        component_id = created.component_id
        assert created.job_id.startswith("JOB")
        job = wait_job(c, created.job_id)
        assert job.job.execution_status == "SUCCEEDED", [(t.task_name, t.task_status, t.messages) for t in job.tasks]
        assert job.task_count == len(job.tasks) >= 3

        info = c.show_component_info(ShowComponentInfoRequest(application_id=app.id, component_id=component_id))
        assert info.name == comp_name
        assert info.environment_id == env_id and info.application_id == app.id
        assert info.runtime_stack.type == "Nodejs" and info.source.url == package
        assert [(e.name, e.value) for e in info.envs] == [("GREETING", "hi")]
        assert info.status.component_status == "RUNNING"
        assert info.status.available_replica == 1 and info.status.replica == 1
        assert info.status.last_job_id == created.job_id
        assert isinstance(info.status.create_time, int)

        raw = c.show_component_info(ShowComponentInfoRequest(application_id=app.id, component_id=component_id)).raw_content
        port = json.loads(raw)["status"]["instances"][0]["port"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            hello = json.loads(r.read())
        assert (hello["service"], hello["version"], hello["app"]) == (comp_name, "1.0.0", app.name)

        in_app = c.show_components_in_application(ShowComponentsInApplicationRequest(application_id=app.id, limit=10, offset=0))
        assert in_app.count == 1 and in_app.components[0].id == component_id
        assert in_app.components[0].application_name == app.name
        everywhere = c.show_components(ShowComponentsRequest(component_name=comp_name))
        assert [x.id for x in everywhere.components] == [component_id]

        scaled = c.update_component_action(UpdateComponentActionRequest(application_id=app.id, component_id=component_id,
                                                                         body=ComponentAction(action="scale", parameters=ComponentActionParameters(replica=2))))
        assert wait_job(c, scaled.job_id).job.execution_status == "SUCCEEDED"
        info = c.show_component_info(ShowComponentInfoRequest(application_id=app.id, component_id=component_id))
        assert (info.status.available_replica, info.replica) == (2, 2)

        modify = ComponentModify(name=comp_name, runtime_stack=stack, source=source, replica=2, version="1.1.0", refer_resources=[], readiness_probe=probe)
        upgraded = c.modify_component(ModifyComponentRequest(application_id=app.id, component_id=component_id, body=modify))
        assert wait_job(c, upgraded.job_id).job.execution_status == "SUCCEEDED"
        info = c.show_component_info(ShowComponentInfoRequest(application_id=app.id, component_id=component_id))
        assert info.version == "1.1.0" and info.status.component_status == "RUNNING"

        records = c.show_component_records(ShowComponentRecordsRequest(application_id=app.id, component_id=component_id))
        assert records.count == 3
        assert [r.deploy_type for r in records.records] == ["upgrade", "scale", "deploy"]
        assert [r.current_used for r in records.records] == [True, False, False]
        assert records.records[0].jobs[0].job_id == upgraded.job_id

        with pytest.raises(ClientRequestException) as err:
            c.update_component_action(UpdateComponentActionRequest(application_id=app.id, component_id=component_id,
                                                                   body=ComponentAction(action="modify_gray_rule")))
        # Issue #18 item 6: a known action, refused only because no gray release is in progress.
        assert err.value.status_code == 400 and err.value.error_code == "SVCSTG.00100400" and "no gray release" in err.value.error_msg
        with pytest.raises(ClientRequestException) as err:
            c.delete_environment(DeleteEnvironmentRequest(environment_id=env_id))
        assert err.value.status_code == 400 and err.value.error_code == "SVCSTG.00100402"
    finally:
        if component_id:
            c.delete_component(DeleteComponentRequest(application_id=app.id, component_id=component_id))
            deadline = time.time() + 60
            while True:
                try:
                    c.show_component_info(ShowComponentInfoRequest(application_id=app.id, component_id=component_id))
                except ClientRequestException as e:
                    assert e.status_code == 401 and e.error_code == "SVCSTG.00100401"
                    break
                assert time.time() < deadline, "component never removed"
                time.sleep(0.5)
    c.delete_application(DeleteApplicationRequest(application_id=app.id))
    c.delete_environment(DeleteEnvironmentRequest(environment_id=env_id))
