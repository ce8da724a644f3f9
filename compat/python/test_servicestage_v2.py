"""ServiceStage v2 driven by the official Huawei Cloud Python SDK (huaweicloudsdkservicestage,
ServiceStageClient v2): every v2 application-management and metadata operation, with a real
deployment of examples/node-hello from a file:// .tar.gz (an instance artifact of type
package) run by OpenStage's deployment engine.

Settings come from compat/run-python.sh: OPENSTAGE_URL, OPENSTAGE_ACCESS_KEY,
OPENSTAGE_SECRET_KEY, OPENSTAGE_PROJECT_ID.
"""
import json
import time
import urllib.request
import uuid

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkservicestage.v2 import (
    ApplicationConfigModify,
    ApplicationConfigModifyConfiguration,
    ApplicationConfigModifyConfigurationEnv,
    ApplicationCreate,
    ApplicationModify,
    ChangeApplicationConfigurationRequest,
    ChangeApplicationRequest,
    ChangeComponentRequest,
    ChangeEnvironmentRequest,
    ChangeInstanceRequest,
    ChangeResourceInEnvironmentRequest,
    ComponentCreate,
    ComponentModify,
    ComponentProbe,
    ConfigurationEnvParam,
    ConfigurationProbes,
    CreateApplicationRequest,
    CreateComponentRequest,
    CreateEnvironmentRequest,
    CreateInstanceRequest,
    DeleteApplicationConfigurationRequest,
    DeleteApplicationRequest,
    DeleteComponentRequest,
    DeleteEnvironmentRequest,
    DeleteInstanceRequest,
    EnvironmentCreate,
    EnvironmentModify,
    EnvironmentResourceModify,
    InstanceAction,
    InstanceActionParameters,
    InstanceConfiguration,
    InstanceCreate,
    InstanceModify,
    ListApplicationsRequest,
    ListComponentOverviewsRequest,
    ListComponentsRequest,
    ListEnvironmentsRequest,
    ListFlavorsRequest,
    ListInstanceSnapshotsRequest,
    ListInstancesRequest,
    ListRuntimesRequest,
    ListTemplatesRequest,
    ProbeParameter,
    ReferResourceCreate,
    Resource,
    ServiceStageClient,
    ShowApplicationConfigurationRequest,
    ShowApplicationDetailRequest,
    ShowComponentDetailRequest,
    ShowEnvironmentDetailRequest,
    ShowInstanceDetailRequest,
    ShowJobDetailRequest,
    UpdateInstanceActionRequest,
)

from openstage_env import URL, sdk_client



def name(prefix):
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def wait_job(c, job_id, timeout=180):
    """Polls show_job_detail until EXECUTION_STATUS leaves RUNNING; meanwhile the last task listed is
    RUNNING (or SUCCEEDED in the instant between the job's last task and the job's end)."""
    deadline = time.time() + timeout
    while True:
        job = c.show_job_detail(ShowJobDetailRequest(job_id=job_id, limit=50))
        assert job.job.job_id == job_id
        if job.job.execution_status != "RUNNING":
            return job
        assert job.tasks[-1].task_status in ("RUNNING", "SUCCEEDED")
        assert time.time() < deadline, f"job {job_id} still RUNNING"
        time.sleep(0.5)


def answers(app_name, service):
    """The version the replica of `service` says it runs (node-hello registers itself in the registry)."""
    deadline = time.time() + 60
    while True:
        query = f"appId={app_name}&serviceName={service}&version=latest"
        with urllib.request.urlopen(f"{URL}/v4/default/registry/instances?{query}", timeout=5) as r:
            found = json.loads(r.read() or b"{}").get("instances", [])
        if found:
            with urllib.request.urlopen("http://" + found[0]["endpoints"][0].removeprefix("rest://") + "/", timeout=5) as r:
                return json.loads(r.read())["version"]
        assert time.time() < deadline, f"{service} never registered"
        time.sleep(0.5)


def test_v2_metadata():
    c = sdk_client(ServiceStageClient)
    runtimes = {r.type_name: r for r in c.list_runtimes(ListRuntimesRequest()).runtimes}
    assert {"Java8", "Tomcat8", "Nodejs8", "Python3"} <= set(runtimes)
    assert runtimes["Java8"].container_default_port == 8080
    flavors = c.list_flavors(ListFlavorsRequest()).flavors
    micro = [f for f in flavors if f.num_cpu == "500m" and f.memory_size == "1Gi"]
    assert len(micro) == 1 and micro[0].custom is False
    assert c.list_templates(ListTemplatesRequest()).templates == []


def test_v2_environment_application_component_instance(package):
    c = sdk_client(ServiceStageClient)
    env = c.create_environment(CreateEnvironmentRequest(body=EnvironmentCreate(
        name=name("pyenv"), deploy_mode="virtualmachine", vpc_id="vpc-py", base_resources=[Resource(id="local", type="ecs")])))
    assert env.deploy_mode == "virtualmachine" and [r.id for r in env.base_resources] == ["local"] and env.optional_resources == []
    env = c.change_resource_in_environment(ChangeResourceInEnvironmentRequest(environment_id=env.id, body=EnvironmentResourceModify(
        add_optional_resources=[Resource(id="default", type="cse", name="engine")])))
    assert [(r.id, r.name) for r in env.optional_resources] == [("default", "engine")]
    changed = c.change_environment(ChangeEnvironmentRequest(environment_id=env.id, body=EnvironmentModify(alias="Py", description="py env")))
    assert (changed.alias, changed.description) == ("Py", "py env")
    assert c.show_environment_detail(ShowEnvironmentDetailRequest(environment_id=env.id)).alias == "Py"
    assert env.id in [e.id for e in c.list_environments(ListEnvironmentsRequest(limit=100)).environments]

    app = c.create_application(CreateApplicationRequest(body=ApplicationCreate(name=name("pyapp"))))
    assert c.change_application(ChangeApplicationRequest(application_id=app.id, body=ApplicationModify(description="py app"))).description == "py app"
    assert app.id in [a.id for a in c.list_applications(ListApplicationsRequest()).applications]
    conf = c.change_application_configuration(ChangeApplicationConfigurationRequest(application_id=app.id, body=ApplicationConfigModify(
        environment_id=env.id, configuration=ApplicationConfigModifyConfiguration(env=[ApplicationConfigModifyConfigurationEnv(name="STAGE", value="py")]))))
    assert conf.environment_id == env.id
    shown = c.show_application_configuration(ShowApplicationConfigurationRequest(application_id=app.id, environment_id=env.id)).configuration
    assert [(e.name, e.value) for e in shown[0].configuration.env] == [("STAGE", "py")]

    comp_name = name("pycomp")
    comp = c.create_component(CreateComponentRequest(application_id=app.id, body=ComponentCreate(name=comp_name, runtime="Nodejs8", category="Webapp", sub_category="Web")))
    assert (comp.status, comp.application_id) == (0, app.id)
    assert c.change_component(ChangeComponentRequest(application_id=app.id, component_id=comp.id, body=ComponentModify(description="from a package"))).description == "from a package"
    assert c.show_component_detail(ShowComponentDetailRequest(application_id=app.id, component_id=comp.id)).name == comp_name
    assert [x.id for x in c.list_components(ListComponentsRequest(application_id=app.id)).components] == [comp.id]

    probe = ConfigurationProbes(readiness_probe=ComponentProbe(type="http", timeout=2, parameters=ProbeParameter(path="/health")))
    created = c.create_instance(CreateInstanceRequest(application_id=app.id, component_id=comp.id, body=InstanceCreate(
        name="py-inst", environment_id=env.id, flavor_id="SMALL-10G:1.0C:2G", replica=1, version="1.0.0",
        artifacts={comp_name: {"storage": "obs", "type": "package", "url": package, "auth": "iam"}},
        configuration=InstanceConfiguration(env=[ConfigurationEnvParam(name="GREETING", value="py")], probes=probe),
        refer_resources=[ReferResourceCreate(id="local", type="ecs")])))
    inst_id = created.instance_id
    job = wait_job(c, created.job_id)
    assert job.job.execution_status == "SUCCEEDED", [(t.task_name, t.task_status, t.messages) for t in job.tasks]
    assert job.task_count == len(job.tasks) and job.tasks[-1].task_status == "SUCCEEDED"

    def instance():
        return c.show_instance_detail(ShowInstanceDetailRequest(application_id=app.id, component_id=comp.id, instance_id=inst_id))

    got = instance()
    assert (got.name, got.version, got.environment_id) == ("py-inst", "1.0.0", env.id)
    assert got.artifacts[comp_name]["url"] == package
    assert (got.status_detail.available_replica, got.status_detail.replica, got.status_detail.last_job_id) == (1, 1, created.job_id)
    assert answers(app.name, "py-inst") == "1.0.0"
    listed = c.list_instances(ListInstancesRequest(application_id=app.id, component_id=comp.id))
    assert listed.count == 1 and listed.instances[0].component_name == comp_name
    overviews = c.list_component_overviews(ListComponentOverviewsRequest(application_id=app.id))
    assert [i.instance_id for i in overviews.components[0].instances] == [inst_id]

    scaled = c.update_instance_action(UpdateInstanceActionRequest(application_id=app.id, component_id=comp.id, instance_id=inst_id,
                                                                   body=InstanceAction(action="scale", parameters=InstanceActionParameters(replica=2))))
    assert wait_job(c, scaled.job_id).job.execution_status == "SUCCEEDED"
    assert instance().status_detail.available_replica == 2
    upgraded = c.change_instance(ChangeInstanceRequest(application_id=app.id, component_id=comp.id, instance_id=inst_id, body=InstanceModify(version="1.0.1")))
    assert wait_job(c, upgraded.job_id).job.execution_status == "SUCCEEDED"
    assert instance().version == "1.0.1" and answers(app.name, "py-inst") == "1.0.1"
    snapshots = c.list_instance_snapshots(ListInstanceSnapshotsRequest(application_id=app.id, component_id=comp.id, instance_id=inst_id))
    assert [s.version for s in snapshots.snapshots] == ["1.0.1", "1.0.0"]

    with pytest.raises(ClientRequestException) as err:
        c.delete_component(DeleteComponentRequest(application_id=app.id, component_id=comp.id))
    assert (err.value.status_code, err.value.error_code) == (400, "SVCSTG.00100402")
    removed = c.delete_instance(DeleteInstanceRequest(application_id=app.id, component_id=comp.id, instance_id=inst_id))
    assert wait_job(c, removed.job_id).job.execution_status == "SUCCEEDED"
    deadline = time.time() + 30
    while True:
        try:
            instance()
        except ClientRequestException as gone:
            assert (gone.status_code, gone.error_code) == (404, "SVCSTG.00100412")
            break
        assert time.time() < deadline, "the instance is still there"
        time.sleep(0.2)
    c.delete_component(DeleteComponentRequest(application_id=app.id, component_id=comp.id))
    with pytest.raises(ClientRequestException) as err:
        c.show_component_detail(ShowComponentDetailRequest(application_id=app.id, component_id=comp.id))
    assert (err.value.status_code, err.value.error_code) == (404, "SVCSTG.00100404")
    c.delete_application_configuration(DeleteApplicationConfigurationRequest(application_id=app.id, environment_id=env.id))
    c.delete_application(DeleteApplicationRequest(application_id=app.id))
    with pytest.raises(ClientRequestException) as err:
        c.show_application_detail(ShowApplicationDetailRequest(application_id=app.id))
    assert (err.value.status_code, err.value.error_code) == (404, "SVCSTG.00100403")
    c.delete_environment(DeleteEnvironmentRequest(environment_id=env.id))
    with pytest.raises(ClientRequestException) as err:
        c.show_environment_detail(ShowEnvironmentDetailRequest(environment_id=env.id))
    assert (err.value.status_code, err.value.error_code) == (404, "SVCSTG.00100411")
