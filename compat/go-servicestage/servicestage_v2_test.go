package servicestage

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	ss "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/servicestage/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/servicestage/v2/model"
)

// Every ServiceStage v2 operation of the Go SDK (28 application-management and 3 metadata
// operations) against OpenStage, with a real deployment of examples/node-hello: one instance
// from a git repository, one from a package, each run by the deployment engine.

const nodeHello = "../../examples/node-hello"

func env(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Skipf("%s is not set; compat/run-go.sh sets it", name)
	}
	return v
}

func newClient(t *testing.T) *ss.ServiceStageClient {
	t.Helper()
	base := env(t, "OPENSTAGE_URL")
	cred, err := basic.NewCredentialsBuilder().WithAk(env(t, "OPENSTAGE_ACCESS_KEY")).WithSk(env(t, "OPENSTAGE_SECRET_KEY")).WithProjectId(env(t, "OPENSTAGE_PROJECT_ID")).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	hc, err := ss.ServiceStageClientBuilder().WithEndpoints([]string{base}).WithCredential(cred).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	return ss.NewServiceStageClient(hc)
}

func must[T any](t *testing.T, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

// wantError checks that err is the SDK's ServiceResponseError with that status and code.
func wantError(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	var se *sdkerr.ServiceResponseError
	if !errors.As(err, &se) {
		t.Fatalf("%s: want a service error %d %s, got %v", what, status, code, err)
	}
	if se.StatusCode != status || se.ErrorCode != code {
		t.Fatalf("%s: want %d %s, got %d %s (%s)", what, status, code, se.StatusCode, se.ErrorCode, se.ErrorMessage)
	}
}

func ptr[T any](v T) *T { return &v }

func unique(prefix string) string { return fmt.Sprintf("%s%d", prefix, time.Now().UnixNano()%1_000_000_000) }

// waitJob polls ShowJobDetail until EXECUTION_STATUS leaves RUNNING and returns it.
func waitJob(t *testing.T, c *ss.ServiceStageClient, jobID string) string {
	t.Helper()
	deadline := time.Now().Add(4 * time.Minute)
	for {
		r := must[*model.ShowJobDetailResponse](t, "ShowJobDetail")(c.ShowJobDetail(&model.ShowJobDetailRequest{JobId: jobID, Limit: ptr(int32(50))}))
		status := r.Job.ExecutionStatus.Value()
		if *r.Job.JobId != jobID {
			t.Fatalf("job id %s, want %s", *r.Job.JobId, jobID)
		}
		if status != "RUNNING" {
			if status != "SUCCEEDED" {
				msgs := []string{}
				for _, task := range *r.Tasks {
					msgs = append(msgs, fmt.Sprintf("%s %s: %s", *task.TaskName, task.TaskStatus.Value(), *task.Messages))
				}
				t.Fatalf("job %s ended %s:\n%s", jobID, status, strings.Join(msgs, "\n"))
			}
			tasks := *r.Tasks
			if len(tasks) == 0 || int(*r.TaskCount) != len(tasks) || tasks[len(tasks)-1].TaskStatus.Value() != "SUCCEEDED" {
				t.Fatalf("job %s SUCCEEDED with tasks %+v", jobID, tasks)
			}
			return status
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still RUNNING", jobID)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// gitRepo makes a file:// git repository of examples/node-hello on branch main, in the
// directory the server lets confined builds read (OPENSTAGE_COMPAT_SOURCE_DIR, its
// deploy.sourceRoots), readable by everyone.
func gitRepo(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp(os.Getenv("OPENSTAGE_COMPAT_SOURCE_DIR"), "repo-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	copyDir(t, nodeHello, dir)
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "."}, {"-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "node-hello"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
	}
	return "file://" + dir
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// packageServer serves examples/node-hello as app.tgz on 127.0.0.1.
func packageServer(t *testing.T) string {
	t.Helper()
	entries, err := os.ReadDir(nodeHello)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/app.tgz" {
			http.NotFound(w, r)
			return
		}
		gz := gzip.NewWriter(w)
		tw := tar.NewWriter(gz)
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			b, _ := os.ReadFile(filepath.Join(nodeHello, e.Name()))
			_ = tw.WriteHeader(&tar.Header{Name: e.Name(), Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
			_, _ = tw.Write(b)
		}
		_ = tw.Close()
		_ = gz.Close()
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/app.tgz"
}

// answer asks the registry for the instances of serviceName (node-hello registers itself) and
// GETs / of the first one; it returns the version the replica says it runs.
func answer(t *testing.T, appName, serviceName string) string {
	t.Helper()
	base := env(t, "OPENSTAGE_URL")
	deadline := time.Now().Add(60 * time.Second)
	for {
		q := url.Values{"appId": {appName}, "serviceName": {serviceName}, "version": {"latest"}}
		var found struct {
			Instances []struct {
				Endpoints []string `json:"endpoints"`
			} `json:"instances"`
		}
		if r, err := http.Get(base + "/v4/default/registry/instances?" + q.Encode()); err == nil {
			b, _ := io.ReadAll(r.Body)
			_ = r.Body.Close()
			_ = json.Unmarshal(b, &found)
		}
		if len(found.Instances) > 0 && len(found.Instances[0].Endpoints) > 0 {
			addr := strings.TrimPrefix(found.Instances[0].Endpoints[0], "rest://")
			r, err := http.Get("http://" + addr + "/")
			if err == nil {
				var hello struct {
					Service string `json:"service"`
					Version string `json:"version"`
				}
				_ = json.NewDecoder(r.Body).Decode(&hello)
				_ = r.Body.Close()
				if hello.Service == serviceName {
					return hello.Version
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/%s never answered through the registry", appName, serviceName)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func TestServiceStageV2Metadata(t *testing.T) {
	c := newClient(t)
	runtimes := must[*model.ListRuntimesResponse](t, "ListRuntimes")(c.ListRuntimes(&model.ListRuntimesRequest{}))
	names := map[string]bool{}
	for _, r := range *runtimes.Runtimes {
		names[*r.TypeName] = true
		if *r.ContainerDefaultPort <= 0 || *r.DisplayName == "" {
			t.Fatalf("runtime %+v", r)
		}
	}
	for _, want := range []string{"Java8", "Tomcat8", "Nodejs8", "Python3"} {
		if !names[want] {
			t.Fatalf("ListRuntimes lacks %s: %v", want, names)
		}
	}
	flavors := must[*model.ListFlavorsResponse](t, "ListFlavors")(c.ListFlavors(&model.ListFlavorsRequest{}))
	micro := false
	for _, f := range *flavors.Flavors {
		if f.FlavorId.Value() == "MICRO-5G:0.5C:1G" {
			micro = *f.NumCpu == "500m" && *f.MemorySize == "1Gi" && !*f.Custom
		}
	}
	if !micro {
		t.Fatalf("ListFlavors: %+v", *flavors.Flavors)
	}
	templates := must[*model.ListTemplatesResponse](t, "ListTemplates")(c.ListTemplates(&model.ListTemplatesRequest{}))
	if templates.Templates == nil || len(*templates.Templates) != 0 {
		t.Fatalf("ListTemplates: %+v", templates)
	}
}

func TestServiceStageV2Deployment(t *testing.T) {
	c := newClient(t)
	repo := gitRepo(t)
	pkg := packageServer(t)
	types := model.GetResourceTypeEnum()

	// ── environment ──
	envName := unique("goenv")
	createdEnv := must[*model.CreateEnvironmentResponse](t, "CreateEnvironment")(c.CreateEnvironment(&model.CreateEnvironmentRequest{Body: &model.EnvironmentCreate{
		Name: envName, DeployMode: "virtualmachine", VpcId: "vpc-local", Description: ptr("from the Go SDK"),
		BaseResources:     []model.Resource{{Id: "local", Type: &types.ECS}},
		OptionalResources: &[]model.Resource{{Id: "default", Type: &types.CSE, Name: ptr("engine")}},
	}}))
	envID := *createdEnv.Id
	if *createdEnv.Name != envName || *createdEnv.DeployMode != "virtualmachine" || len(*createdEnv.BaseResources) != 1 || (*createdEnv.OptionalResources)[0].Type.Value() != "cse" {
		t.Fatalf("CreateEnvironment: %+v", createdEnv)
	}
	changedEnv := must[*model.ChangeEnvironmentResponse](t, "ChangeEnvironment")(c.ChangeEnvironment(&model.ChangeEnvironmentRequest{EnvironmentId: envID, Body: &model.EnvironmentModify{Alias: ptr("Dev"), Description: ptr("changed")}}))
	if *changedEnv.Alias != "Dev" || *changedEnv.Description != "changed" || *changedEnv.Name != envName {
		t.Fatalf("ChangeEnvironment: %+v", changedEnv)
	}
	patched := must[*model.ChangeResourceInEnvironmentResponse](t, "ChangeResourceInEnvironment")(c.ChangeResourceInEnvironment(&model.ChangeResourceInEnvironmentRequest{EnvironmentId: envID, Body: &model.EnvironmentResourceModify{
		RemoveResources:      &[]model.Resource{{Id: "default", Type: &types.CSE}},
		AddOptionalResources: &[]model.Resource{{Id: "default", Type: &types.CSE, Name: ptr("built-in engine")}},
	}}))
	if len(*patched.OptionalResources) != 1 || *(*patched.OptionalResources)[0].Name != "built-in engine" || len(*patched.BaseResources) != 1 {
		t.Fatalf("ChangeResourceInEnvironment: %+v", patched)
	}
	shownEnv := must[*model.ShowEnvironmentDetailResponse](t, "ShowEnvironmentDetail")(c.ShowEnvironmentDetail(&model.ShowEnvironmentDetailRequest{EnvironmentId: envID}))
	if *shownEnv.Alias != "Dev" || *shownEnv.ChargeMode != "provided" || *shownEnv.CreateTime <= 0 {
		t.Fatalf("ShowEnvironmentDetail: %+v", shownEnv)
	}
	envs := must[*model.ListEnvironmentsResponse](t, "ListEnvironments")(c.ListEnvironments(&model.ListEnvironmentsRequest{Limit: ptr(int32(100))}))
	found := false
	for _, e := range *envs.Environments {
		found = found || *e.Id == envID
	}
	if !found || *envs.Count < 1 {
		t.Fatalf("ListEnvironments lacks %s", envID)
	}
	_, err := c.ShowEnvironmentDetail(&model.ShowEnvironmentDetailRequest{EnvironmentId: "nope"})
	wantError(t, "ShowEnvironmentDetail of nothing", err, 404, "SVCSTG.00100411")

	// ── application and its variables ──
	appName := unique("goapp")
	createdApp := must[*model.CreateApplicationResponse](t, "CreateApplication")(c.CreateApplication(&model.CreateApplicationRequest{Body: &model.ApplicationCreate{Name: appName, Description: ptr("d")}}))
	appID := *createdApp.Id
	changedApp := must[*model.ChangeApplicationResponse](t, "ChangeApplication")(c.ChangeApplication(&model.ChangeApplicationRequest{ApplicationId: appID, Body: &model.ApplicationModify{Description: ptr("changed")}}))
	if *changedApp.Description != "changed" || *changedApp.Name != appName {
		t.Fatalf("ChangeApplication: %+v", changedApp)
	}
	apps := must[*model.ListApplicationsResponse](t, "ListApplications")(c.ListApplications(&model.ListApplicationsRequest{}))
	if *apps.Count < 1 {
		t.Fatalf("ListApplications: %+v", apps)
	}
	conf := must[*model.ChangeApplicationConfigurationResponse](t, "ChangeApplicationConfiguration")(c.ChangeApplicationConfiguration(&model.ChangeApplicationConfigurationRequest{ApplicationId: appID, Body: &model.ApplicationConfigModify{
		EnvironmentId: envID, Configuration: &model.ApplicationConfigModifyConfiguration{Env: []model.ApplicationConfigModifyConfigurationEnv{{Name: "APP_STAGE", Value: "go-sdk"}}},
	}}))
	if *conf.EnvironmentId != envID || *(*conf.Configuration.Env)[0].Value != "go-sdk" {
		t.Fatalf("ChangeApplicationConfiguration: %+v", conf)
	}
	shownConf := must[*model.ShowApplicationConfigurationResponse](t, "ShowApplicationConfiguration")(c.ShowApplicationConfiguration(&model.ShowApplicationConfigurationRequest{ApplicationId: appID, EnvironmentId: &envID}))
	if len(*shownConf.Configuration) != 1 || *(*(*shownConf.Configuration)[0].Configuration.Env)[0].Name != "APP_STAGE" {
		t.Fatalf("ShowApplicationConfiguration: %+v", shownConf)
	}

	// ── component: a definition its instances deploy ──
	cats := model.GetComponentCategoryEnum()
	runtimes := model.GetRuntimeTypeEnum()
	code := model.GetSourceKindEnum().CODE
	compName := unique("gocomp")
	createdComp := must[*model.CreateComponentResponse](t, "CreateComponent")(c.CreateComponent(&model.CreateComponentRequest{ApplicationId: appID, Body: &model.ComponentCreate{
		Name: compName, Runtime: &runtimes.NODEJS8, Category: &cats.WEBAPP, Description: ptr("node-hello"),
		Source: &model.SourceObject{Kind: &code, Spec: &model.SourceOrArtifact{RepoUrl: ptr(repo), RepoRef: ptr("main")}},
	}}))
	compID := *createdComp.Id
	if *createdComp.Status != 0 || createdComp.Runtime.Value() != "Nodejs8" || *createdComp.ApplicationId != appID {
		t.Fatalf("CreateComponent: %+v", createdComp)
	}
	changedComp := must[*model.ChangeComponentResponse](t, "ChangeComponent")(c.ChangeComponent(&model.ChangeComponentRequest{ApplicationId: appID, ComponentId: compID, Body: &model.ComponentModify{Description: ptr("node-hello from git")}}))
	if *changedComp.Description != "node-hello from git" || *changedComp.Source.Spec.RepoUrl != repo {
		t.Fatalf("ChangeComponent: %+v", changedComp)
	}
	shownComp := must[*model.ShowComponentDetailResponse](t, "ShowComponentDetail")(c.ShowComponentDetail(&model.ShowComponentDetailRequest{ApplicationId: appID, ComponentId: compID}))
	if *shownComp.Name != compName || shownComp.Category.Value() != "Webapp" {
		t.Fatalf("ShowComponentDetail: %+v", shownComp)
	}
	comps := must[*model.ListComponentsResponse](t, "ListComponents")(c.ListComponents(&model.ListComponentsRequest{ApplicationId: appID}))
	if *comps.Count != 1 || *(*comps.Components)[0].Id != compID {
		t.Fatalf("ListComponents: %+v", comps)
	}

	// ── two instances: one from the repository, one from a package ──
	micro := model.GetFlavorIdEnum().MICRO_5_G0_5_C1_G
	http1 := model.GetComponentProbeTypeEnum().HTTP
	probes := &model.ConfigurationProbes{ReadinessProbe: &model.ComponentProbe{Type: http1, Timeout: ptr(int32(2)), Parameters: &model.ProbeParameter{Path: ptr("/health")}}}
	fromGit := must[*model.CreateInstanceResponse](t, "CreateInstance (git)")(c.CreateInstance(&model.CreateInstanceRequest{ApplicationId: appID, ComponentId: compID, Body: &model.InstanceCreate{
		Name: "go-git", EnvironmentId: envID, FlavorId: &micro, Replica: 1, Version: "1.0.0",
		ReferResources: []model.ReferResourceCreate{{Id: "local", Type: &types.ECS}},
		Configuration:  &model.InstanceConfiguration{Env: &[]model.ConfigurationEnvParam{{Name: "GREETING", Value: "hi"}}, Probes: probes},
	}}))
	fromPkg := must[*model.CreateInstanceResponse](t, "CreateInstance (package)")(c.CreateInstance(&model.CreateInstanceRequest{ApplicationId: appID, ComponentId: compID, Body: &model.InstanceCreate{
		Name: "go-pkg", EnvironmentId: envID, FlavorId: &micro, Replica: 1, Version: "1.0.0",
		Artifacts:      map[string]interface{}{compName: map[string]interface{}{"storage": "obs", "type": "package", "url": pkg, "auth": "iam"}},
		ReferResources: []model.ReferResourceCreate{{Id: "local", Type: &types.ECS}},
		Configuration:  &model.InstanceConfiguration{Probes: probes},
	}}))
	waitJob(t, c, *fromGit.JobId)
	waitJob(t, c, *fromPkg.JobId)
	gitID, pkgID := *fromGit.InstanceId, *fromPkg.InstanceId
	inst := func(id string) *model.ShowInstanceDetailResponse {
		t.Helper()
		return must[*model.ShowInstanceDetailResponse](t, "ShowInstanceDetail")(c.ShowInstanceDetail(&model.ShowInstanceDetailRequest{ApplicationId: appID, ComponentId: compID, InstanceId: id}))
	}
	g := inst(gitID)
	if *g.Name != "go-git" || g.StatusDetail.Status.Value() != "RUNNING" || *g.StatusDetail.AvailableReplica != 1 || g.FlavorId.Value() != "MICRO-5G:0.5C:1G" || *g.Version != "1.0.0" || g.PlatformType.Value() != "vmapp" {
		t.Fatalf("ShowInstanceDetail (git): %+v %+v", g, g.StatusDetail)
	}
	p := inst(pkgID)
	artifact, _ := p.Artifacts[compName].(map[string]interface{})
	if p.StatusDetail.Status.Value() != "RUNNING" || artifact["url"] != pkg {
		t.Fatalf("ShowInstanceDetail (package): %+v %+v", p, p.StatusDetail)
	}
	if v := answer(t, appName, "go-git"); v != "1.0.0" {
		t.Fatalf("go-git answers version %s", v)
	}
	if v := answer(t, appName, "go-pkg"); v != "1.0.0" {
		t.Fatalf("go-pkg answers version %s", v)
	}
	list := must[*model.ListInstancesResponse](t, "ListInstances")(c.ListInstances(&model.ListInstancesRequest{ApplicationId: appID, ComponentId: compID}))
	if *list.Count != 2 || *(*list.Instances)[0].ComponentName != compName || *(*list.Instances)[0].EnvironmentName != envName {
		t.Fatalf("ListInstances: %+v", list)
	}
	overviews := must[*model.ListComponentOverviewsResponse](t, "ListComponentOverviews")(c.ListComponentOverviews(&model.ListComponentOverviewsRequest{ApplicationId: appID}))
	if *overviews.Count != 1 || len(*(*overviews.Components)[0].Instances) != 2 {
		t.Fatalf("ListComponentOverviews: %+v", overviews)
	}

	// ── actions, upgrade, rollback on the git instance ──
	acts := model.GetInstanceActionTypeEnum()
	act := func(a model.InstanceActionType, params *model.InstanceActionParameters) {
		t.Helper()
		r := must[*model.UpdateInstanceActionResponse](t, "UpdateInstanceAction "+a.Value())(c.UpdateInstanceAction(&model.UpdateInstanceActionRequest{ApplicationId: appID, ComponentId: compID, InstanceId: gitID, Body: &model.InstanceAction{Action: &a, Parameters: params}}))
		waitJob(t, c, *r.JobId)
	}
	act(acts.SCALE, &model.InstanceActionParameters{Replica: ptr(int32(2))})
	if g = inst(gitID); *g.StatusDetail.Replica != 2 || *g.StatusDetail.AvailableReplica != 2 {
		t.Fatalf("after scale: %+v", g.StatusDetail)
	}
	changed := must[*model.ChangeInstanceResponse](t, "ChangeInstance")(c.ChangeInstance(&model.ChangeInstanceRequest{ApplicationId: appID, ComponentId: compID, InstanceId: gitID, Body: &model.InstanceModify{Version: "1.0.1", Description: ptr("upgraded")}}))
	waitJob(t, c, *changed.JobId)
	if g = inst(gitID); *g.Version != "1.0.1" || *g.Description != "upgraded" {
		t.Fatalf("after ChangeInstance: %+v", g)
	}
	if v := answer(t, appName, "go-git"); v != "1.0.1" {
		t.Fatalf("go-git answers version %s after the upgrade", v)
	}
	snaps := must[*model.ListInstanceSnapshotsResponse](t, "ListInstanceSnapshots")(c.ListInstanceSnapshots(&model.ListInstanceSnapshotsRequest{ApplicationId: appID, ComponentId: compID, InstanceId: gitID}))
	if *snaps.Count != 2 || *(*snaps.Snapshots)[0].Version != "1.0.1" || *(*snaps.Snapshots)[1].Version != "1.0.0" {
		t.Fatalf("ListInstanceSnapshots: %+v", snaps)
	}
	act(acts.ROLLBACK, &model.InstanceActionParameters{Version: ptr("1.0.0")})
	if g = inst(gitID); *g.Version != "1.0.0" || g.StatusDetail.Status.Value() != "RUNNING" {
		t.Fatalf("after rollback: %+v %+v", g, g.StatusDetail)
	}
	act(acts.STOP, nil)
	if g = inst(gitID); g.StatusDetail.Status.Value() != "STOPPED" {
		t.Fatalf("after stop: %+v", g.StatusDetail)
	}
	act(acts.START, nil)
	act(acts.RESTART, nil)
	if g = inst(gitID); g.StatusDetail.Status.Value() != "RUNNING" {
		t.Fatalf("after start and restart: %+v", g.StatusDetail)
	}

	// ── what is in use is refused; then everything is removed ──
	_, err = c.DeleteComponent(&model.DeleteComponentRequest{ApplicationId: appID, ComponentId: compID})
	wantError(t, "DeleteComponent with instances", err, 400, "SVCSTG.00100402")
	_, err = c.DeleteEnvironment(&model.DeleteEnvironmentRequest{EnvironmentId: envID})
	wantError(t, "DeleteEnvironment with instances", err, 400, "SVCSTG.00100402")
	for _, id := range []string{gitID, pkgID} {
		r := must[*model.DeleteInstanceResponse](t, "DeleteInstance")(c.DeleteInstance(&model.DeleteInstanceRequest{ApplicationId: appID, ComponentId: compID, InstanceId: id}))
		waitJob(t, c, *r.JobId)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err = c.ShowInstanceDetail(&model.ShowInstanceDetailRequest{ApplicationId: appID, ComponentId: compID, InstanceId: gitID})
		if err != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	wantError(t, "ShowInstanceDetail after DeleteInstance", err, 404, "SVCSTG.00100412")
	must[*model.DeleteComponentResponse](t, "DeleteComponent")(c.DeleteComponent(&model.DeleteComponentRequest{ApplicationId: appID, ComponentId: compID}))
	_, err = c.ShowComponentDetail(&model.ShowComponentDetailRequest{ApplicationId: appID, ComponentId: compID})
	wantError(t, "ShowComponentDetail after DeleteComponent", err, 404, "SVCSTG.00100404")
	must[*model.DeleteApplicationConfigurationResponse](t, "DeleteApplicationConfiguration")(c.DeleteApplicationConfiguration(&model.DeleteApplicationConfigurationRequest{ApplicationId: appID, EnvironmentId: envID}))
	must[*model.DeleteApplicationResponse](t, "DeleteApplication")(c.DeleteApplication(&model.DeleteApplicationRequest{ApplicationId: appID}))
	_, err = c.ShowApplicationDetail(&model.ShowApplicationDetailRequest{ApplicationId: appID})
	wantError(t, "ShowApplicationDetail after DeleteApplication", err, 404, "SVCSTG.00100403")
	must[*model.DeleteEnvironmentResponse](t, "DeleteEnvironment")(c.DeleteEnvironment(&model.DeleteEnvironmentRequest{EnvironmentId: envID}))
	_, err = c.ShowEnvironmentDetail(&model.ShowEnvironmentDetailRequest{EnvironmentId: envID})
	wantError(t, "ShowEnvironmentDetail after DeleteEnvironment", err, 404, "SVCSTG.00100411")
}
