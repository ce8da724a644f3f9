package org.openstage.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.huaweicloud.sdk.core.exception.ClientRequestException;
import com.huaweicloud.sdk.servicestage.v2.ServiceStageClient;
import com.huaweicloud.sdk.servicestage.v2.model.*;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Git repository operations of the Java SDK (huaweicloud-sdk-servicestage's v2 client; the
 * paths are the v1 Git API) against repositories hosted by OpenStage (repo type `local`).
 */
class GitTest {
    private final ServiceStageClient c = OpenStage.client(ServiceStageClient.newBuilder());
    private static final CreatePasswordAuthRequest.RepoTypeEnum LOCAL = CreatePasswordAuthRequest.RepoTypeEnum.fromValue("local");

    @Test
    void authorizationsRepositoriesTagsHooksAndNestedFiles() {
        String auth = OpenStage.name("jauth");
        // Issue #18 item 1: the SDK sends {name, user, password}.
        CreatePasswordAuthResponse created = c.createPasswordAuth(new CreatePasswordAuthRequest().withRepoType(LOCAL)
            .withBody(new AccessPassword().withName(auth).withUser("javauser").withPassword("Java-Passw0rd")));
        assertEquals("javauser", created.getAuthorization().getRepoUser());
        String token = OpenStage.name("jtok");
        c.createPersonalAuth(new CreatePersonalAuthRequest().withRepoType(CreatePersonalAuthRequest.RepoTypeEnum.fromValue("local"))
            .withBody(new AccessToken().withName(token).withToken("tok-" + token)));
        List<String> names = c.listAuthorizations(new ListAuthorizationsRequest()).getAuthorizations().stream().map(AuthorizationVO::getName).toList();
        assertTrue(names.containsAll(List.of(auth, token)), names.toString());
        ClientRequestException noOauth = assertThrows(ClientRequestException.class, () -> c.showRedirectUrl(new ShowRedirectUrlRequest()
            .withRepoType(ShowRedirectUrlRequest.RepoTypeEnum.fromValue("local"))));
        assertTrue(noOauth.getErrorCode().startsWith("SVCSTG.REPO."));

        String ns = "javauser";
        String repo = OpenStage.name("jrepo");
        CreateProjectResponse project = c.createProject(new CreateProjectRequest().withXRepoAuth(auth).withNamespace(ns).withBody(new ProjectCreate().withName(repo)));
        assertTrue(project.getCloneUrl().endsWith("/" + ns + "/" + repo + ".git"), project.getCloneUrl());
        assertTrue(c.listNamespaces(new ListNamespacesRequest().withXRepoAuth(auth)).getNamespaces().stream().anyMatch(n -> ns.equals(n.getName())));
        assertTrue(c.listProjects(new ListProjectsRequest().withXRepoAuth(auth).withNamespace(ns)).getProjects().stream().anyMatch(p -> repo.equals(p.getName())));
        assertEquals(repo, c.showProjectDetail(new ShowProjectDetailRequest().withXRepoAuth(auth).withCloneUrl(project.getCloneUrl())).getProject());

        // Issue #18 item 7: the SDK puts a nested path in the URL with '/' unescaped.
        String path = "conf/app/settings.yaml";
        assertEquals(path, c.createFile(new CreateFileRequest().withXRepoAuth(auth).withNamespace(ns).withProject(repo).withPath(path).withRef("main")
            .withBody(new FileCreate().withMessage("add").withContent("a: 1\n"))).getPath());
        ShowContentResponse file = c.showContent(new ShowContentRequest().withXRepoAuth(auth).withNamespace(ns).withProject(repo).withPath(path).withRef("main"));
        assertEquals("a: 1\n", file.getContent());
        c.updateFile(new UpdateFileRequest().withXRepoAuth(auth).withNamespace(ns).withProject(repo).withPath(path).withRef("main")
            .withBody(new FileUpdate().withMessage("edit").withContent("a: 2\n").withSha(file.getSha())));
        assertEquals(List.of(path), c.listTrees(new ListTreesRequest().withXRepoAuth(auth).withNamespace(ns).withProject(repo).withRef("main")).getPaths());
        assertEquals(List.of("main"), c.listBranches(new ListBranchesRequest().withXRepoAuth(auth).withNamespace(ns).withProject(repo)).getBranches());
        assertEquals(2, c.listCommits(new ListCommitsRequest().withXRepoAuth(auth).withNamespace(ns).withProject(repo).withRef("main")).getCommits().size());

        c.createTag(new CreateTagRequest().withXRepoAuth(auth).withNamespace(ns).withProject(repo).withRef("main").withBody(new TagCreate().withName("v1").withDescription("first")));
        assertEquals(List.of("v1"), c.listTags(new ListTagsRequest().withXRepoAuth(auth).withNamespace(ns).withProject(repo)).getTags());
        c.deleteTag(new DeleteTagRequest().withXRepoAuth(auth).withNamespace(ns).withProject(repo).withTagName("v1"));
        CreateHookResponse hook = c.createHook(new CreateHookRequest().withXRepoAuth(auth).withNamespace(ns).withProject(repo)
            .withBody(new HookCreate().withUrl("http://127.0.0.1:9/hook").withSecret("s3cret")));
        assertEquals(List.of(hook.getId()), c.listHooks(new ListHooksRequest().withXRepoAuth(auth).withNamespace(ns).withProject(repo)).getHooks().stream().map(Hook::getId).toList());
        c.deleteHook(new DeleteHookRequest().withXRepoAuth(auth).withNamespace(ns).withProject(repo).withHookId(hook.getId()));

        String sha = c.showContent(new ShowContentRequest().withXRepoAuth(auth).withNamespace(ns).withProject(repo).withPath(path).withRef("main")).getSha();
        c.deleteFile(new DeleteFileRequest().withXRepoAuth(auth).withNamespace(ns).withProject(repo).withPath(path).withRef("main").withMessage("rm").withSha(sha));
        assertTrue(c.listTrees(new ListTreesRequest().withXRepoAuth(auth).withNamespace(ns).withProject(repo).withRef("main")).getPaths().isEmpty());

        c.deleteAuthorize(new DeleteAuthorizeRequest().withName(token));
        c.deleteAuthorize(new DeleteAuthorizeRequest().withName(auth));
        assertFalse(c.listAuthorizations(new ListAuthorizationsRequest()).getAuthorizations().stream().anyMatch(a -> a.getName().equals(auth)));
    }
}
