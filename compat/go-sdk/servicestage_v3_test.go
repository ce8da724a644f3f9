package gosdk

import (
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/def"
)

// ServiceStage v3 through the Go SDK's core: the Go SDK ships no v3 package, so these
// request definitions and typed models play the generated client's part (paths, methods,
// path/query/body fields and JSON names of the v3 API reference, as the Python and Java v3
// clients have them); the core signs, sends and decodes exactly as for a generated client.

type stage struct{ hc *core.HcHttpClient }

// v3Request holds every path and query field an operation may name; each definition lists the ones it uses.
type v3Request struct {
	EnvironmentId      string      `json:"environment_id,omitempty"`
	ApplicationId      string      `json:"application_id,omitempty"`
	ComponentId        string      `json:"component_id,omitempty"`
	JobId              string      `json:"job_id,omitempty"`
	ConfigId           string      `json:"config_id,omitempty"`
	ConfigGroupId      string      `json:"config_group_id,omitempty"`
	EnvironmentIdQuery *string     `json:"environment_id_query,omitempty"`
	NameQuery          *string     `json:"name,omitempty"`
	ComponentNameQuery *string     `json:"component_name,omitempty"`
	Limit              *int32      `json:"limit,omitempty"`
	Body               interface{} `json:"body,omitempty"`
}

func pathField(name, tag string) *def.FieldDef {
	return def.NewFieldDef().WithName(name).WithJsonTag(tag).WithLocationType(def.Path)
}

func queryField(name, tag string) *def.FieldDef {
	return def.NewFieldDef().WithName(name).WithJsonTag(tag).WithLocationType(def.Query)
}

var (
	envPath  = pathField("EnvironmentId", "environment_id")
	appPath  = pathField("ApplicationId", "application_id")
	compPath = pathField("ComponentId", "component_id")
	bodyDef  = def.NewFieldDef().WithName("Body").WithLocationType(def.Body)
)

// do sends one operation; resp (a pointer to a struct with HttpStatusCode) receives the answer.
func (s stage) do(method, path string, req *v3Request, resp interface{}, fields ...*def.FieldDef) error {
	b := def.NewHttpRequestDefBuilder().WithMethod(method).WithPath(path).WithResponse(resp).WithContentType("application/json")
	for _, f := range fields {
		b.WithRequestField(f)
	}
	_, err := s.hc.Sync(req, b.Build())
	return err
}

type label struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type environment struct {
	Id                  string  `json:"id"`
	Name                string  `json:"name"`
	Description         *string `json:"description,omitempty"`
	EnterpriseProjectId string  `json:"enterprise_project_id"`
	DeployMode          string  `json:"deploy_mode"`
	VpcId               string  `json:"vpc_id"`
	CreateTime          int64   `json:"create_time"`
	Labels              []label `json:"labels"`
	HttpStatusCode      int     `json:"-"`
}

type environmentList struct {
	Count          int32         `json:"count"`
	Environments   []environment `json:"environments"`
	HttpStatusCode int           `json:"-"`
}

type resource struct {
	Id   string `json:"id"`
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
}

type resources struct {
	Resources      []resource `json:"resources"`
	HttpStatusCode int        `json:"-"`
}

type application struct {
	Id                  string `json:"id"`
	Name                string `json:"name"`
	Description         string `json:"description"`
	EnterpriseProjectId string `json:"enterprise_project_id"`
	ComponentCount      int32  `json:"component_count"`
	HttpStatusCode      int    `json:"-"`
}

type applicationList struct {
	Count          int32         `json:"count"`
	Applications   []application `json:"applications"`
	HttpStatusCode int           `json:"-"`
}

type envVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type appConfiguration struct {
	Configuration []struct {
		ApplicationId string `json:"application_id"`
		EnvironmentId string `json:"environment_id"`
		Configuration struct {
			Env []envVar `json:"env"`
		} `json:"configuration"`
	} `json:"configuration"`
	HttpStatusCode int `json:"-"`
}

type runtimeStacks struct {
	Runtimestacks []struct {
		Name       string `json:"name"`
		Type       string `json:"type"`
		Version    string `json:"version"`
		DeployMode string `json:"deploy_mode"`
	} `json:"runtimestacks"`
	HttpStatusCode int `json:"-"`
}

type accepted struct {
	ComponentId    string `json:"component_id"`
	JobId          string `json:"job_id"`
	HttpStatusCode int    `json:"-"`
}

type jobInfo struct {
	TaskCount int32 `json:"task_count"`
	Job       struct {
		ExecutionStatus string `json:"execution_status"`
		JobId           string `json:"job_id"`
	} `json:"job"`
	Tasks []struct {
		TaskName   string `json:"task_name"`
		TaskStatus string `json:"task_status"`
		Messages   string `json:"messages"`
	} `json:"tasks"`
	HttpStatusCode int `json:"-"`
}

type componentStatus struct {
	ComponentStatus  string `json:"component_status"`
	AvailableReplica int32  `json:"available_replica"`
	Replica          int32  `json:"replica"`
	LastJobId        string `json:"last_job_id"`
	CreateTime       int64  `json:"create_time"`
}

type component struct {
	Id              string          `json:"id"`
	Name            string          `json:"name"`
	EnvironmentId   string          `json:"environment_id"`
	ApplicationId   string          `json:"application_id"`
	ApplicationName string          `json:"application_name"`
	Version         string          `json:"version"`
	Replica         int32           `json:"replica"`
	Status          componentStatus `json:"status"`
	HttpStatusCode  int             `json:"-"`
}

type componentList struct {
	Count          int32       `json:"count"`
	Components     []component `json:"components"`
	HttpStatusCode int         `json:"-"`
}

type records struct {
	Count   int32 `json:"count"`
	Records []struct {
		DeployType  string `json:"deploy_type"`
		Version     string `json:"version"`
		CurrentUsed bool   `json:"current_used"`
		Status      string `json:"status"`
		BeginTime   string `json:"begin_time"`
		Jobs        []struct {
			JobId string `json:"job_id"`
		} `json:"jobs"`
	} `json:"records"`
	HttpStatusCode int `json:"-"`
}

type empty struct {
	HttpStatusCode int `json:"-"`
}

type configGroup struct {
	Id             string `json:"id"`
	Name           string `json:"name"`
	HttpStatusCode int    `json:"-"`
}

// configFile.Version is a string (issue #18 item 14: the API reference and Terraform say so).
type configFile struct {
	Id             string `json:"id"`
	Name           string `json:"name"`
	Type           string `json:"type"`
	Content        string `json:"content"`
	Version        string `json:"version"`
	ConfigGroupId  string `json:"config_group_id"`
	HttpStatusCode int    `json:"-"`
}

func stageClient(t *testing.T) stage {
	begin(t)
	return stage{hcClient(t)}
}

func TestServiceStageV3EnvironmentsApplicationsConfiguration(t *testing.T) {
	s := stageClient(t)
	envName := name("genv")
	// Issue #18 item 13: "enterprise_project_id": "" means the default enterprise project.
	env := &environment{}
	must(0, s.do(http.MethodPost, "/v3/{project_id}/cas/environments", &v3Request{Body: map[string]interface{}{"name": envName, "vpc_id": "vpc-go", "deploy_mode": "virtualmachine", "enterprise_project_id": ""}}, env, bodyDef))
	if env.EnterpriseProjectId != "0" || env.DeployMode != "virtualmachine" || env.CreateTime == 0 {
		t.Fatalf("created: %+v", env)
	}
	got := &environment{}
	must(0, s.do(http.MethodGet, "/v3/{project_id}/cas/environments/{environment_id}", &v3Request{EnvironmentId: env.Id}, got, envPath))
	if got.Name != envName {
		t.Fatalf("get: %+v", got)
	}
	list := &environmentList{}
	must(0, s.do(http.MethodGet, "/v3/{project_id}/cas/environments", &v3Request{NameQuery: &envName}, list, queryField("NameQuery", "name")))
	if len(list.Environments) != 1 || list.Environments[0].Id != env.Id {
		t.Fatalf("list: %+v", list)
	}
	modified := &environment{}
	must(0, s.do(http.MethodPut, "/v3/{project_id}/cas/environments/{environment_id}", &v3Request{EnvironmentId: env.Id, Body: map[string]interface{}{"name": envName, "description": "second", "labels": []label{{"k", "v"}}}}, modified, envPath, bodyDef))
	if modified.Description == nil || *modified.Description != "second" || len(modified.Labels) != 1 {
		t.Fatalf("modify: %+v", modified)
	}
	must(0, s.do(http.MethodPut, "/v3/{project_id}/cas/environments/{environment_id}/resources", &v3Request{EnvironmentId: env.Id, Body: map[string]interface{}{"resources": []resource{{Id: "default", Type: "cse", Name: "cse"}}}}, &environment{}, envPath, bodyDef))
	res := &resources{}
	must(0, s.do(http.MethodGet, "/v3/{project_id}/cas/environments/{environment_id}/resources", &v3Request{EnvironmentId: env.Id}, res, envPath))
	if len(res.Resources) != 1 || res.Resources[0].Id != "default" {
		t.Fatalf("resources: %+v", res)
	}

	app := &application{}
	appName := name("gapp")
	must(0, s.do(http.MethodPost, "/v3/{project_id}/cas/applications", &v3Request{Body: map[string]interface{}{"name": appName, "enterprise_project_id": ""}}, app, bodyDef))
	if app.EnterpriseProjectId != "0" {
		t.Fatalf("app: %+v", app)
	}
	must(0, s.do(http.MethodGet, "/v3/{project_id}/cas/applications/{application_id}", &v3Request{ApplicationId: app.Id}, app, appPath))
	limit := int32(100)
	apps := &applicationList{}
	must(0, s.do(http.MethodGet, "/v3/{project_id}/cas/applications", &v3Request{Limit: &limit}, apps, queryField("Limit", "limit")))
	found := false
	for _, a := range apps.Applications {
		found = found || a.Id == app.Id
	}
	if !found {
		t.Fatalf("apps: %+v", apps)
	}
	must(0, s.do(http.MethodPut, "/v3/{project_id}/cas/applications/{application_id}", &v3Request{ApplicationId: app.Id, Body: map[string]interface{}{"name": appName, "description": "described"}}, app, appPath, bodyDef))
	if app.Description != "described" {
		t.Fatalf("modify app: %+v", app)
	}
	must(0, s.do(http.MethodPut, "/v3/{project_id}/cas/applications/{application_id}/configuration", &v3Request{ApplicationId: app.Id, Body: map[string]interface{}{
		"environment_id": env.Id, "configuration": map[string]interface{}{"env": []envVar{{"STAGE", "go"}}}}}, &empty{}, appPath, bodyDef))
	conf := &appConfiguration{}
	must(0, s.do(http.MethodGet, "/v3/{project_id}/cas/applications/{application_id}/configuration", &v3Request{ApplicationId: app.Id, EnvironmentIdQuery: &env.Id}, conf, appPath, queryField("EnvironmentIdQuery", "environment_id")))
	if len(conf.Configuration) != 1 || conf.Configuration[0].Configuration.Env[0].Value != "go" {
		t.Fatalf("configuration: %+v", conf)
	}
	must(0, s.do(http.MethodDelete, "/v3/{project_id}/cas/applications/{application_id}/configuration", &v3Request{ApplicationId: app.Id, EnvironmentIdQuery: &env.Id}, &empty{}, appPath, queryField("EnvironmentIdQuery", "environment_id")))

	stacks := &runtimeStacks{}
	must(0, s.do(http.MethodGet, "/v3/{project_id}/cas/runtimestacks", &v3Request{}, stacks))
	if len(stacks.Runtimestacks) == 0 {
		t.Fatal("no runtime stacks")
	}

	// Configuration groups and files (issue #18 item 14: version is a string).
	group := &configGroup{}
	must(0, s.do(http.MethodPost, "/v3/{project_id}/cas/config-groups", &v3Request{Body: map[string]interface{}{"name": name("ggrp"), "enterprise_project_id": ""}}, group, bodyDef))
	file := &configFile{}
	must(0, s.do(http.MethodPost, "/v3/{project_id}/cas/configs", &v3Request{Body: map[string]interface{}{"config_group_id": group.Id, "name": name("gcfg"), "type": "yaml", "content": "a: 1\n"}}, file, bodyDef))
	cfgPath := pathField("ConfigId", "config_id")
	must(0, s.do(http.MethodPut, "/v3/{project_id}/cas/configs/{config_id}", &v3Request{ConfigId: file.Id, Body: map[string]interface{}{"config_group_id": group.Id, "name": file.Name, "type": "yaml", "content": "a: 2\n"}}, file, cfgPath, bodyDef))
	read := &configFile{}
	must(0, s.do(http.MethodGet, "/v3/{project_id}/cas/configs/{config_id}", &v3Request{ConfigId: file.Id}, read, cfgPath))
	if read.Version != "2" || read.Content != "a: 2\n" {
		t.Fatalf("config: %+v", read)
	}
	must(0, s.do(http.MethodDelete, "/v3/{project_id}/cas/configs/{config_id}", &v3Request{ConfigId: file.Id}, &empty{}, cfgPath))
	must(0, s.do(http.MethodDelete, "/v3/{project_id}/cas/config-groups/{config_group_id}", &v3Request{ConfigGroupId: group.Id}, &empty{}, pathField("ConfigGroupId", "config_group_id")))

	must(0, s.do(http.MethodDelete, "/v3/{project_id}/cas/applications/{application_id}", &v3Request{ApplicationId: app.Id}, &empty{}, appPath))
	must(0, s.do(http.MethodDelete, "/v3/{project_id}/cas/environments/{environment_id}", &v3Request{EnvironmentId: env.Id}, &empty{}, envPath))
	err := s.do(http.MethodGet, "/v3/{project_id}/cas/environments/{environment_id}", &v3Request{EnvironmentId: env.Id}, &environment{}, envPath)
	if errorCode(err) != "SVCSTG.00100401" {
		t.Fatalf("after delete: %v", err)
	}
	// Issue #18 item 10: an unknown route answers in the Huawei format the core reads.
	err = s.do(http.MethodGet, "/v3/{project_id}/cas/nothing-here", &v3Request{}, &empty{})
	if errorCode(err) != "SVCSTG.00100408" {
		t.Fatalf("unknown route: %v", err)
	}
}

func (s stage) waitJob(t *testing.T, jobId string) *jobInfo {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		job := &jobInfo{}
		must(0, s.do(http.MethodGet, "/v3/{project_id}/cas/jobs/{job_id}", &v3Request{JobId: jobId}, job, pathField("JobId", "job_id")))
		if job.Job.ExecutionStatus != "RUNNING" {
			return job
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still RUNNING", jobId)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func TestServiceStageV3ComponentLifecycle(t *testing.T) {
	s := stageClient(t)
	pkg := (&url.URL{Scheme: "file", Path: os.Getenv("OPENSTAGE_NODE_HELLO_TGZ")}).String()
	env := &environment{}
	must(0, s.do(http.MethodPost, "/v3/{project_id}/cas/environments", &v3Request{Body: map[string]interface{}{"name": name("genv"), "vpc_id": "vpc-go"}}, env, bodyDef))
	app := &application{}
	must(0, s.do(http.MethodPost, "/v3/{project_id}/cas/applications", &v3Request{Body: map[string]interface{}{"name": name("gapp")}}, app, bodyDef))
	compName := name("gweb")
	body := func(version string, replica int) map[string]interface{} {
		return map[string]interface{}{
			"name": compName, "version": version, "replica": replica, "environment_id": env.Id, "refer_resources": []interface{}{},
			"runtime_stack":   map[string]string{"name": "Nodejs20", "type": "Nodejs", "version": "1.0.0", "deploy_mode": "virtualmachine"},
			"source":          map[string]string{"kind": "package", "storage": "obs", "url": pkg},
			"readiness_probe": map[string]interface{}{"type": "http", "path": "/health", "timeout": 2},
		}
	}
	created := &accepted{}
	must(0, s.do(http.MethodPost, "/v3/{project_id}/cas/applications/{application_id}/components", &v3Request{ApplicationId: app.Id, Body: body("1.0.0", 1)}, created, appPath, bodyDef))
	if job := s.waitJob(t, created.JobId); job.Job.ExecutionStatus != "SUCCEEDED" || int(job.TaskCount) != len(job.Tasks) {
		t.Fatalf("deploy job: %+v", job)
	}
	info := &component{}
	must(0, s.do(http.MethodGet, "/v3/{project_id}/cas/applications/{application_id}/components/{component_id}", &v3Request{ApplicationId: app.Id, ComponentId: created.ComponentId}, info, appPath, compPath))
	if info.Name != compName || info.Status.ComponentStatus != "RUNNING" || info.Status.AvailableReplica != 1 || info.Status.LastJobId != created.JobId {
		t.Fatalf("component: %+v", info)
	}
	inApp := &componentList{}
	must(0, s.do(http.MethodGet, "/v3/{project_id}/cas/applications/{application_id}/components", &v3Request{ApplicationId: app.Id}, inApp, appPath))
	all := &componentList{}
	must(0, s.do(http.MethodGet, "/v3/{project_id}/cas/components", &v3Request{ComponentNameQuery: &compName}, all, queryField("ComponentNameQuery", "component_name")))
	if inApp.Count != 1 || len(all.Components) != 1 || all.Components[0].Id != created.ComponentId {
		t.Fatalf("lists: %+v %+v", inApp, all)
	}
	action := &accepted{}
	must(0, s.do(http.MethodPost, "/v3/{project_id}/cas/applications/{application_id}/components/{component_id}/action", &v3Request{ApplicationId: app.Id, ComponentId: created.ComponentId,
		Body: map[string]interface{}{"action": "scale", "parameters": map[string]int{"replica": 2}}}, action, appPath, compPath, bodyDef))
	if s.waitJob(t, action.JobId).Job.ExecutionStatus != "SUCCEEDED" {
		t.Fatal("scale failed")
	}
	// Issue #18 item 6: modify_gray_rule is known; refused only because no gray release runs.
	err := s.do(http.MethodPost, "/v3/{project_id}/cas/applications/{application_id}/components/{component_id}/action", &v3Request{ApplicationId: app.Id, ComponentId: created.ComponentId,
		Body: map[string]interface{}{"action": "modify_gray_rule"}}, &accepted{}, appPath, compPath, bodyDef)
	if errorCode(err) != "SVCSTG.00100400" {
		t.Fatalf("modify_gray_rule: %v", err)
	}
	upgraded := &accepted{}
	must(0, s.do(http.MethodPut, "/v3/{project_id}/cas/applications/{application_id}/components/{component_id}", &v3Request{ApplicationId: app.Id, ComponentId: created.ComponentId, Body: body("1.1.0", 2)}, upgraded, appPath, compPath, bodyDef))
	if s.waitJob(t, upgraded.JobId).Job.ExecutionStatus != "SUCCEEDED" {
		t.Fatal("upgrade failed")
	}
	recs := &records{}
	must(0, s.do(http.MethodGet, "/v3/{project_id}/cas/applications/{application_id}/components/{component_id}/records", &v3Request{ApplicationId: app.Id, ComponentId: created.ComponentId}, recs, appPath, compPath))
	if recs.Count != 3 || recs.Records[0].DeployType != "upgrade" || !recs.Records[0].CurrentUsed || recs.Records[0].Jobs[0].JobId != upgraded.JobId {
		t.Fatalf("records: %+v", recs)
	}
	must(0, s.do(http.MethodDelete, "/v3/{project_id}/cas/applications/{application_id}/components/{component_id}", &v3Request{ApplicationId: app.Id, ComponentId: created.ComponentId}, &accepted{}, appPath, compPath))
	deadline := time.Now().Add(time.Minute)
	for {
		err := s.do(http.MethodGet, "/v3/{project_id}/cas/applications/{application_id}/components/{component_id}", &v3Request{ApplicationId: app.Id, ComponentId: created.ComponentId}, &component{}, appPath, compPath)
		if err != nil {
			if errorCode(err) != "SVCSTG.00100401" {
				t.Fatalf("after delete: %v", err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("component never removed")
		}
		time.Sleep(500 * time.Millisecond)
	}
	must(0, s.do(http.MethodDelete, "/v3/{project_id}/cas/applications/{application_id}", &v3Request{ApplicationId: app.Id}, &empty{}, appPath))
	must(0, s.do(http.MethodDelete, "/v3/{project_id}/cas/environments/{environment_id}", &v3Request{EnvironmentId: env.Id}, &empty{}, envPath))
}
