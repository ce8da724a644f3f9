"""The Git repository operations of the official Huawei Cloud Python SDK
(huaweicloudsdkservicestage, ServiceStageClient v2 — its Git operations use the v1 Git API)
against repositories hosted by OpenStage (repo type `local`): authorizations (password with
the SDK's {name, user, password} body, private token, OAuth redirect), namespaces, projects,
branches, tags, commits, hooks, trees and files at a nested path.

Settings come from compat/run-python.sh.
"""
import uuid

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkservicestage.v2 import (
    AccessPassword,
    AccessToken,
    CreateFileRequest,
    CreateHookRequest,
    CreatePasswordAuthRequest,
    CreatePersonalAuthRequest,
    CreateProjectRequest,
    CreateTagRequest,
    DeleteAuthorizeRequest,
    DeleteFileRequest,
    DeleteHookRequest,
    DeleteTagRequest,
    FileCreate,
    FileUpdate,
    HookCreate,
    ListAuthorizationsRequest,
    ListBranchesRequest,
    ListCommitsRequest,
    ListHooksRequest,
    ListNamespacesRequest,
    ListProjectsRequest,
    ListTagsRequest,
    ListTreesRequest,
    ProjectCreate,
    ServiceStageClient,
    ShowContentRequest,
    ShowProjectDetailRequest,
    ShowRedirectUrlRequest,
    TagCreate,
    UpdateFileRequest,
)

from openstage_env import sdk_client


def name(prefix):
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def test_git_authorizations_repositories_and_nested_files():
    c = sdk_client(ServiceStageClient)
    auth = name("pyauth")
    # Issue #18 item 1: the SDK's password body is {name, user, password}.
    created = c.create_password_auth(CreatePasswordAuthRequest(repo_type="local", body=AccessPassword(name=auth, user="pyuser", password="Py-Passw0rd")))
    assert created.authorization.repo_user == "pyuser"
    token = name("pytok")
    c.create_personal_auth(CreatePersonalAuthRequest(repo_type="local", body=AccessToken(name=token, token="tok-" + token)))
    assert {auth, token} <= {a.name for a in c.list_authorizations(ListAuthorizationsRequest()).authorizations}
    with pytest.raises(ClientRequestException) as err:
        c.show_redirect_url(ShowRedirectUrlRequest(repo_type="local"))
    assert err.value.error_code.startswith("SVCSTG.REPO.")

    ns, repo = "pyuser", name("pyrepo")
    project = c.create_project(CreateProjectRequest(x_repo_auth=auth, namespace=ns, body=ProjectCreate(name=repo)))
    assert project.clone_url.endswith(f"/{ns}/{repo}.git")
    assert ns in [n.name for n in c.list_namespaces(ListNamespacesRequest(x_repo_auth=auth)).namespaces]
    assert repo in [p.name for p in c.list_projects(ListProjectsRequest(x_repo_auth=auth, namespace=ns)).projects]
    assert c.show_project_detail(ShowProjectDetailRequest(x_repo_auth=auth, clone_url=project.clone_url)).project == repo

    # Issue #18 item 7: a nested path (Python escapes '/', Go and Java do not; both are accepted).
    path = "conf/app/settings.yaml"
    repo_args = dict(x_repo_auth=auth, namespace=ns, project=repo)
    assert c.create_file(CreateFileRequest(**repo_args, path=path, ref="main", body=FileCreate(message="add", content="a: 1\n"))).path == path
    content = c.show_content(ShowContentRequest(**repo_args, path=path, ref="main"))
    assert content.content == "a: 1\n"
    c.update_file(UpdateFileRequest(**repo_args, path=path, ref="main", body=FileUpdate(message="edit", content="a: 2\n", sha=content.sha)))
    assert c.list_trees(ListTreesRequest(**repo_args, ref="main")).paths == [path]
    assert c.list_branches(ListBranchesRequest(**repo_args)).branches == ["main"]
    assert len(c.list_commits(ListCommitsRequest(**repo_args, ref="main")).commits) == 2

    c.create_tag(CreateTagRequest(**repo_args, ref="main", body=TagCreate(name="v1", description="first")))
    assert c.list_tags(ListTagsRequest(**repo_args)).tags == ["v1"]
    c.delete_tag(DeleteTagRequest(**repo_args, tag_name="v1"))
    hook = c.create_hook(CreateHookRequest(**repo_args, body=HookCreate(url="http://127.0.0.1:9/hook", secret="s3cret")))
    assert [h.id for h in c.list_hooks(ListHooksRequest(**repo_args)).hooks] == [hook.id]
    c.delete_hook(DeleteHookRequest(**repo_args, hook_id=hook.id))

    sha = c.show_content(ShowContentRequest(**repo_args, path=path, ref="main")).sha
    c.delete_file(DeleteFileRequest(**repo_args, path=path, ref="main", message="rm", sha=sha))
    assert not c.list_trees(ListTreesRequest(**repo_args, ref="main")).paths

    c.delete_authorize(DeleteAuthorizeRequest(name=token))
    c.delete_authorize(DeleteAuthorizeRequest(name=auth))
    assert auth not in {a.name for a in c.list_authorizations(ListAuthorizationsRequest()).authorizations}
