"""A component deployed by the official Huawei Cloud Python SDK (ServiceStageClient v3) to an
environment bound to a Kubernetes cluster (issue #17): the test cluster of
scripts/k8s-test-cluster.sh — a real control plane with simulated KWOK nodes, where pods become
Running and Ready but no image is pulled and nothing runs.

The cluster is up only in the kubernetes phase of scripts/run-tests.mjs, which runs this file
with OPENSTAGE_TEST_K8S_DIR naming it; elsewhere (the compat phase) the test is skipped.
The SDK's `Resource` model has no `parameters`, so the kubeconfig is bound with the same signed
call made through the SDK core's generic `do_http_request`.
"""
import json
import os
import pathlib
import subprocess
import time
import uuid

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkservicestage.v3 import (
    ApplicationCreate,
    ComponentAction,
    ComponentActionParameters,
    ComponentCreate,
    ComponentEnvironment,
    CreateApplicationRequest,
    CreateComponentRequest,
    CreateEnvironmentRequest,
    DeleteApplicationRequest,
    DeleteComponentRequest,
    DeleteEnvironmentRequest,
    EnvironmentCreate,
    RuntimeStack,
    ServiceStageClient,
    ShowComponentInfoRequest,
    ShowEnvironmentResourcesRequest,
    ShowJobInfoRequest,
    SourceObject,
    UpdateComponentActionRequest,
)

from openstage_env import sdk_client

CLUSTER_DIR = os.environ.get("OPENSTAGE_TEST_K8S_DIR", "")
ROOT = pathlib.Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not CLUSTER_DIR, reason="needs the test cluster: runs in the kubernetes test phase (OPENSTAGE_TEST_K8S_DIR)")


def kubectl(*args):
    binary = subprocess.run(["bash", str(ROOT / "scripts" / "k8s-test-cluster.sh"), "kubectl-path"], check=True, capture_output=True, text=True).stdout.strip()
    return subprocess.run([binary, "--kubeconfig", os.path.join(CLUSTER_DIR, "kubeconfig"), *args], check=True, capture_output=True, text=True).stdout


def pods(namespace, component_id):
    items = json.loads(kubectl("-n", namespace, "get", "pods", "-l", f"openstage.io/component-id={component_id}", "-o", "json"))["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def wait_job(c, job_id, timeout=180):
    deadline = time.time() + timeout
    while True:
        job = c.show_job_info(ShowJobInfoRequest(job_id=job_id))
        if job.job.execution_status != "RUNNING":
            return job
        assert time.time() < deadline, f"job {job_id} still RUNNING"
        time.sleep(0.5)


def test_component_on_a_cce_bound_environment():
    c = sdk_client(ServiceStageClient)
    namespace = f"sdk-{uuid.uuid4().hex[:10]}"
    kubeconfig = pathlib.Path(CLUSTER_DIR, "kubeconfig").read_text()
    env_id = c.create_environment(CreateEnvironmentRequest(body=EnvironmentCreate(name=f"sdkk8s{uuid.uuid4().hex[:8]}", vpc_id="vpc-sdk", deploy_mode="container"))).id
    app = c.create_application(CreateApplicationRequest(body=ApplicationCreate(name=f"sdkapp{uuid.uuid4().hex[:8]}")))
    component_id = None
    try:
        c.do_http_request("PUT", "/v3/{project_id}/cas/environments/{environment_id}/resources", path_params={"environment_id": env_id},
                          body={"resources": [{"id": "k1", "name": "test-cluster", "type": "cce", "parameters": {"kubeconfig": kubeconfig, "namespace": namespace}}]},
                          response_type="ModifyResourceInEnvironmentResponse")
        bound = c.show_environment_resources(ShowEnvironmentResourcesRequest(environment_id=env_id))
        assert [(r.id, r.type) for r in bound.resources] == [("k1", "cce")]

        stack = RuntimeStack(name="Docker", type="Docker", version="1.0.0", deploy_mode="container")
        source = SourceObject(kind="image", storage="swr", url="registry.local/sdk/web:1.0.0")
        body = ComponentCreate(name=f"sdkweb{uuid.uuid4().hex[:8]}", runtime_stack=stack, source=source, replica=2, version="1.0.0", environment_id=env_id,
                               refer_resources=[], envs=[ComponentEnvironment(name="GREETING", value="hi from the sdk")])
        created = c.create_component(CreateComponentRequest(application_id=app.id, body=body))
        component_id = created.component_id
        job = wait_job(c, created.job_id)
        assert job.job.execution_status == "SUCCEEDED", [(t.task_name, t.task_status, t.messages) for t in job.tasks]

        info = c.show_component_info(ShowComponentInfoRequest(application_id=app.id, component_id=component_id))
        assert info.status.component_status == "RUNNING"
        assert (info.status.available_replica, info.status.replica) == (2, 2)
        running = pods(namespace, component_id)
        assert len(running) == 2
        container = running[0]["spec"]["containers"][0]
        assert container["image"] == "registry.local/sdk/web:1.0.0"
        assert {"name": "GREETING", "value": "hi from the sdk"} in container["env"]
        assert all(p["status"]["phase"] == "Running" for p in running)

        scaled = c.update_component_action(UpdateComponentActionRequest(application_id=app.id, component_id=component_id,
                                                                         body=ComponentAction(action="scale", parameters=ComponentActionParameters(replica=3))))
        assert wait_job(c, scaled.job_id).job.execution_status == "SUCCEEDED"
        assert len(pods(namespace, component_id)) == 3
        assert c.show_component_info(ShowComponentInfoRequest(application_id=app.id, component_id=component_id)).status.available_replica == 3
    finally:
        if component_id:
            c.delete_component(DeleteComponentRequest(application_id=app.id, component_id=component_id))
            deadline = time.time() + 120
            while True:
                try:
                    c.show_component_info(ShowComponentInfoRequest(application_id=app.id, component_id=component_id))
                except ClientRequestException as e:
                    assert e.status_code == 401
                    break
                assert time.time() < deadline, "component never removed"
                time.sleep(0.5)
            assert json.loads(kubectl("-n", namespace, "get", "deployment,service,configmap,secret", "-l", f"openstage.io/component-id={component_id}", "-o", "json"))["items"] == []
        c.delete_application(DeleteApplicationRequest(application_id=app.id))
        c.delete_environment(DeleteEnvironmentRequest(environment_id=env_id))
        subprocess.run(["bash", "-c", '"$(bash "$0" kubectl-path)" --kubeconfig "$1" delete namespace "$2" --wait=false --ignore-not-found', str(ROOT / "scripts" / "k8s-test-cluster.sh"), os.path.join(CLUSTER_DIR, "kubeconfig"), namespace], check=False, capture_output=True)
