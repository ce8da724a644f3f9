package gosdk

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/def"
	cse "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/cse/v1"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/cse/v1/model"
)

// The generated CSE v1 client: every operation OpenStage serves (flavors, engines, engine
// jobs, configuration import and export).

func cseClient(t *testing.T) *cse.CseClient {
	begin(t)
	return cse.NewCseClient(hcClient(t))
}

// kieFile writes an import file and returns it opened for the multipart upload.
func kieFile(t *testing.T, content string) *os.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kie.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestCseFlavorsAndBuiltInEngine(t *testing.T) {
	c := cseClient(t)
	spec := "CSE2"
	flavors := must(c.ListFlavors(&model.ListFlavorsRequest{SpecType: &spec}))
	if *flavors.Total != 4 {
		t.Fatalf("flavors: %d", *flavors.Total)
	}
	engines := must(c.ListEngines(&model.ListEnginesRequest{}))
	if *engines.Total < 1 || *(*engines.Data)[0].Id != "default" {
		t.Fatalf("engines: %+v", engines)
	}
	// Issue #18 item 4: the Go model declares reference limits as strings.
	engine := must(c.ShowEngine(&model.ShowEngineRequest{EngineId: "default"}))
	if engine.Reference == nil || *engine.Reference.ServiceLimit != "50000" || *engine.Reference.InstanceLimit == "" {
		t.Fatalf("reference: %+v", engine.Reference)
	}
}

func TestCseImportExport(t *testing.T) {
	c := cseClient(t)
	key := name("k")
	label := "env:gosdk"
	content := `{"data":[{"key":"` + key + `","value":"1","labels":{"app":"gosdk"},"status":"enabled"},{"key":"bad key","value":"x"}]}`
	up := must(c.UploadKie(&model.UploadKieRequest{XEngineId: "default", Override: model.GetUploadKieRequestOverrideEnum().FORCE, Label: &label,
		Body: &model.UploadKieRequestBody{UploadFile: def.NewFilePart(kieFile(t, content))}}))
	// Issue #18 item 2: failure[].error_code is a string (the Go model's type): no unmarshal error.
	if len(*up.Success) != 1 || len(*up.Failure) != 1 || *(*up.Failure)[0].ErrorCode != "400001" {
		t.Fatalf("upload: %+v", up)
	}
	skip := must(c.UploadKie(&model.UploadKieRequest{XEngineId: "default", Override: model.GetUploadKieRequestOverrideEnum().SKIP, Label: &label,
		Body: &model.UploadKieRequestBody{UploadFile: def.NewFilePart(kieFile(t, content))}}))
	if *(*skip.Failure)[0].ErrorCode != "400004" {
		t.Fatalf("skip: %+v", skip)
	}
	// Issue #18 item 3: by label the SDK sends {"ids": null}.
	byLabel := "app:gosdk"
	down := must(c.DownloadKie(&model.DownloadKieRequest{XEngineId: "default", Label: &byLabel, Body: &model.DownloadKieReqBody{}}))
	if len(*down.Data) != 1 || *(*down.Data)[0].Key != key {
		t.Fatalf("download: %+v", down)
	}
	// Issue #18 item 8: data[].id, the same id the import answered.
	id := *(*down.Data)[0].Id
	if id != *(*up.Success)[0].Id {
		t.Fatalf("export id %s, import id %s", id, *(*up.Success)[0].Id)
	}
	byID := must(c.DownloadKie(&model.DownloadKieRequest{XEngineId: "default", Body: &model.DownloadKieReqBody{Ids: []string{id}}}))
	if *(*byID.Data)[0].Key != key {
		t.Fatalf("by id: %+v", byID)
	}
	_, err := c.DownloadKie(&model.DownloadKieRequest{XEngineId: "no-such-engine", Body: &model.DownloadKieReqBody{}})
	// Issue #18 item 10: the Kie error body parses in the Go SDK's error handler.
	if errorCode(err) != "SVCSTG.00501116" {
		t.Fatalf("unknown engine: %v", err)
	}
}

func TestCseExclusiveEngine(t *testing.T) {
	c := cseClient(t)
	azs := []string{"az1"}
	created := must(c.CreateEngine(&model.CreateEngineRequest{Body: &model.EngineCreateReq{
		Name: name("g"), Payment: model.GetEngineCreateReqPaymentEnum().E_1, Flavor: model.GetEngineCreateReqFlavorEnum().CSE_S1_SMALL2,
		AzList: &azs, AuthType: model.GetEngineCreateReqAuthTypeEnum().NONE, Vpc: "vpc-1", NetworkId: "net-1", SubnetCidr: "192.168.0.0/24",
		SpecType: model.GetEngineCreateReqSpecTypeEnum().CSE2,
	}}))
	id := *created.Id
	deadline := time.Now().Add(2 * time.Minute)
	for {
		job := must(c.ShowEngineJob(&model.ShowEngineJobRequest{EngineId: id, JobId: itoa(*created.JobId)}))
		status := job.Status.Value()
		if status == "Finished" {
			break
		}
		if status == "Error" || status == "Timeout" || time.Now().After(deadline) {
			t.Fatalf("create job: %s", status)
		}
		time.Sleep(500 * time.Millisecond)
	}
	shown := must(c.ShowEngine(&model.ShowEngineRequest{EngineId: id}))
	if *shown.Reference.InstanceLimit != "100" {
		t.Fatalf("instance limit: %s", *shown.Reference.InstanceLimit)
	}
	// Issue #18 item 5: an import aimed at the engine lands there, not in the built-in engine.
	up := must(c.UploadKie(&model.UploadKieRequest{XEngineId: id, Override: model.GetUploadKieRequestOverrideEnum().FORCE,
		Body: &model.UploadKieRequestBody{UploadFile: def.NewFilePart(kieFile(t, `{"data":[{"key":"go.engine","value":"v","labels":{"app":"goeng"}}]}`))}}))
	if len(*up.Success) != 1 {
		t.Fatalf("upload: %+v", up)
	}
	label := "app:goeng"
	if d := must(c.DownloadKie(&model.DownloadKieRequest{XEngineId: id, Label: &label, Body: &model.DownloadKieReqBody{}})); len(*d.Data) != 1 {
		t.Fatalf("in the engine: %+v", d)
	}
	if d := must(c.DownloadKie(&model.DownloadKieRequest{XEngineId: "default", Label: &label, Body: &model.DownloadKieReqBody{}})); d.Data != nil && len(*d.Data) != 0 {
		t.Fatalf("in the built-in engine: %+v", d)
	}
	must(c.DeleteEngine(&model.DeleteEngineRequest{EngineId: id}))
	for {
		_, err := c.ShowEngine(&model.ShowEngineRequest{EngineId: id})
		if err != nil {
			if errorCode(err) != "SVCSTG.00501116" {
				t.Fatalf("after delete: %v", err)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("engine never removed")
		}
		time.Sleep(300 * time.Millisecond)
	}
}
