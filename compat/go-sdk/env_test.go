package gosdk

import (
	"fmt"
	"math/rand"
	"os"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
)

// hcClient is the SDK core's HTTP client, AK/SK-signed for the project, pointed at OpenStage.
func hcClient(t *testing.T) *core.HcHttpClient {
	t.Helper()
	env := func(name string) string {
		v := os.Getenv(name)
		if v == "" {
			t.Fatalf("%s is not set; run compat/run-go-sdk.sh", name)
		}
		return v
	}
	cred, err := basic.NewCredentialsBuilder().WithAk(env("OPENSTAGE_ACCESS_KEY")).WithSk(env("OPENSTAGE_SECRET_KEY")).WithProjectId(env("OPENSTAGE_PROJECT_ID")).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	hc, err := core.NewHcHttpClientBuilder().WithCredential(cred).WithEndpoints([]string{env("OPENSTAGE_URL")}).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	return hc
}

// name is a unique resource name: a letter, then hex.
func name(prefix string) string {
	return fmt.Sprintf("%s%010x", prefix, rand.Int63n(1<<40))
}

// errorCode is the Huawei error code of a failed call ("" when err is not a service error).
func errorCode(err error) string {
	if e, ok := err.(*sdkerr.ServiceResponseError); ok {
		return e.ErrorCode
	}
	return ""
}

// current is the running test (these tests never run in parallel), for must.
var current *testing.T

// must returns v, or fails the running test when err is set; tests call begin(t) first.
func must[T any](v T, err error) T {
	current.Helper()
	if err != nil {
		current.Fatalf("unexpected error: %v", err)
	}
	return v
}

// begin makes t the test must fails.
func begin(t *testing.T) {
	current = t
}

func itoa(n int32) string {
	return fmt.Sprintf("%d", n)
}
