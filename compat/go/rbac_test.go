package compat

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-chassis/cari/discovery"
	"github.com/go-chassis/cari/rbac"
	sc "github.com/go-chassis/sc-client"
	"github.com/gorilla/websocket"
)

// The engine RBAC half of the compat suite: a second server, started by
// compat/run-go.sh with --rbac and a root password, whose address and root
// password come from these variables.
const (
	envRbacAddr     = "OPENSTAGE_SC_RBAC_ADDR"
	envRootPassword = "OPENSTAGE_SC_ROOT_PASSWORD"
)

// rbacServer returns the RBAC server's address and root password; it fails
// (never skips) when they are not set, as scAddr does.
func rbacServer(t *testing.T) (string, string) {
	t.Helper()
	password := os.Getenv(envRootPassword)
	if os.Getenv(envRbacAddr) == "" || password == "" {
		t.Fatalf("%s and %s must be set: run compat/run-go.sh, which starts a server with --rbac", envRbacAddr, envRootPassword)
	}
	t.Setenv(envAddr, os.Getenv(envRbacAddr))
	return scAddr(t), password
}

// rawCall sends one JSON request and returns the status and body.
func rawCall(t *testing.T, method, url, token string, body interface{}) (int, []byte) {
	t.Helper()
	var reader io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		reader = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, reader)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// errorCode reads the ServiceComb errorCode (a JSON string) of an error body.
func errorCode(body []byte) string {
	var e struct {
		ErrorCode string `json:"errorCode"`
	}
	_ = json.Unmarshal(body, &e)
	return e.ErrorCode
}

// fetchToken does POST /v4/token by hand, as a client without RBAC support would.
func fetchToken(t *testing.T, addr, name, password string) string {
	t.Helper()
	status, body := rawCall(t, http.MethodPost, "http://"+addr+sc.TokenPath, "", rbac.AuthUser{Username: name, Password: password})
	if status != http.StatusOK {
		t.Fatalf("POST %s as %s: status %d, body %s", sc.TokenPath, name, status, body)
	}
	var tok rbac.Token
	if err := json.Unmarshal(body, &tok); err != nil || tok.TokenStr == "" {
		t.Fatalf("POST %s: body %s is not {\"token\":...} (%v)", sc.TokenPath, body, err)
	}
	return tok.TokenStr
}

// checkJWT decodes a token without verifying it and checks its header and claims.
func checkJWT(t *testing.T, token, account string, roles []string) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a JWT (want 3 dot-separated parts)", token)
	}
	var header struct {
		Alg string `json:"alg"`
	}
	var claims struct {
		Account string   `json:"account"`
		Roles   []string `json:"roles"`
		Exp     int64    `json:"exp"`
	}
	for i, v := range []interface{}{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("token part %d: %v", i, err)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatalf("token part %d: %v", i, err)
		}
	}
	if header.Alg != "RS512" {
		t.Errorf("token alg = %q, want RS512", header.Alg)
	}
	if claims.Account != account || strings.Join(claims.Roles, ",") != strings.Join(roles, ",") {
		t.Errorf("token claims account=%q roles=%v, want %q %v", claims.Account, claims.Roles, account, roles)
	}
	if d := time.Until(time.Unix(claims.Exp, 0)); d < 11*time.Hour || d > 13*time.Hour {
		t.Errorf("token expires in %s, want about 12h", d)
	}
}

// authClient is an sc-client that fetches its own token from /v4/token.
func authClient(t *testing.T, addr, name, password string) *sc.Client {
	t.Helper()
	if _, ok := os.LookupEnv(sc.EnvProjectID); !ok {
		os.Setenv(sc.EnvProjectID, "default")
	}
	c, err := sc.NewClient(sc.Options{
		Endpoints:  []string{addr},
		Timeout:    10 * time.Second,
		EnableAuth: true,
		AuthUser:   &rbac.AuthUser{Username: name, Password: password},
	})
	if err != nil {
		t.Fatalf("sc.NewClient(%s, EnableAuth as %s): %v", addr, name, err)
	}
	return c
}

func TestScClientWithRBACToken(t *testing.T) {
	addr, rootPassword := rbacServer(t)
	base := "http://" + addr
	suffix := fmt.Sprintf("%d%04d", time.Now().Unix(), rand.Intn(10000))
	app := "compat-rbac-" + suffix

	// 1. A token by hand: an RS512 JWT for root with role admin, 12 h by default.
	rootToken := fetchToken(t, addr, "root", rootPassword)
	checkJWT(t, rootToken, "root", []string{"admin"})

	// 2. Without a token the registry answers 401 (401204); the whitelist stays open.
	status, body := rawCall(t, http.MethodGet, base+registryBase+"/microservices", "", nil)
	if status != http.StatusUnauthorized || errorCode(body) != "401204" {
		t.Errorf("GET %s/microservices without a token: status %d body %s, want 401 with errorCode 401204", registryBase, status, body)
	}
	if status, body = rawCall(t, http.MethodGet, base+"/health", "", nil); status != http.StatusOK {
		t.Errorf("GET /health without a token: status %d body %s, want 200 (whitelist)", status, body)
	}
	plain, err := sc.NewClient(sc.Options{Endpoints: []string{addr}, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.RegisterService(&discovery.MicroService{AppId: app, ServiceName: "anonymous", Version: "1.0.0"}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("RegisterService without auth: err = %v, want a 401 failure", err)
	}

	// 3. The sc-client with EnableAuth gets its token from /v4/token and sends
	// Authorization: Bearer on every registry call.
	c := authClient(t, addr, "root", rootPassword)
	providerID, err := c.RegisterService(&discovery.MicroService{AppId: app, ServiceName: "provider", Version: "1.0.0", Status: sc.MicorserviceUp})
	if err != nil || providerID == "" {
		t.Fatalf("RegisterService with a root token: id=%q err=%v", providerID, err)
	}
	t.Cleanup(func() { _, _ = c.UnregisterMicroService(providerID) })
	iid, err := c.RegisterMicroServiceInstance(&discovery.MicroServiceInstance{
		ServiceId: providerID,
		Endpoints: []string{"rest://127.0.0.1:9090"},
		HostName:  "compat-rbac",
		Status:    sc.MSInstanceUP,
	})
	if err != nil || iid == "" {
		t.Fatalf("RegisterMicroServiceInstance with a token: id=%q err=%v", iid, err)
	}
	if ok, err := c.Heartbeat(providerID, iid); err != nil || !ok {
		t.Fatalf("Heartbeat with a token: ok=%v err=%v", ok, err)
	}
	consumerID, err := c.RegisterService(&discovery.MicroService{AppId: app, ServiceName: "consumer", Version: "1.0.0", Status: sc.MicorserviceUp})
	if err != nil {
		t.Fatalf("RegisterService(consumer): %v", err)
	}
	t.Cleanup(func() { _, _ = c.UnregisterMicroService(consumerID) })
	found, err := c.FindMicroServiceInstances(consumerID, app, "provider", "1.0.0", sc.WithoutRevision())
	if err != nil || len(found) != 1 || found[0].InstanceId != iid {
		t.Fatalf("FindMicroServiceInstances with a token: %s err=%v, want instance %s", toJSON(found), err, iid)
	}

	// 4. The hand-fetched token works on the same calls.
	if status, body = rawCall(t, http.MethodGet, base+registryBase+"/microservices/"+providerID, rootToken, nil); status != http.StatusOK {
		t.Errorf("GET microservice with the hand-fetched token: status %d body %s", status, body)
	}

	// 5. A developer account: registry yes, accounts no (403205).
	dev := "dev" + suffix
	const devPassword = "Dev#Pass12"
	status, body = rawCall(t, http.MethodPost, base+"/v4/accounts", rootToken, map[string]interface{}{"name": dev, "password": devPassword, "roles": []string{"developer"}})
	if status != http.StatusOK {
		t.Fatalf("POST /v4/accounts (developer %s): status %d body %s", dev, status, body)
	}
	t.Cleanup(func() { rawCall(t, http.MethodDelete, base+"/v4/accounts/"+dev, rootToken, nil) })
	dc := authClient(t, addr, dev, devPassword)
	devServiceID, err := dc.RegisterService(&discovery.MicroService{AppId: app, ServiceName: "by-developer", Version: "1.0.0"})
	if err != nil || devServiceID == "" {
		t.Fatalf("RegisterService as a developer: id=%q err=%v", devServiceID, err)
	}
	t.Cleanup(func() { _, _ = dc.UnregisterMicroService(devServiceID) })
	devToken := fetchToken(t, addr, dev, devPassword)
	checkJWT(t, devToken, dev, []string{"developer"})
	if status, body = rawCall(t, http.MethodGet, base+"/v4/accounts", devToken, nil); status != http.StatusForbidden || errorCode(body) != "403205" {
		t.Errorf("GET /v4/accounts as a developer: status %d body %s, want 403 with errorCode 403205", status, body)
	}

	// 6. The watch upgrade needs the token too (sc-client v0.7.0 dials the
	// watcher without it, so the socket is opened here by hand).
	wsURL := "ws://" + addr + registryBase + "/microservices/" + consumerID + "/watcher"
	if conn, resp, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"X-Domain-Name": {"default"}}); err == nil {
		conn.Close()
		t.Errorf("watch without a token: the upgrade succeeded, want 401")
	} else if resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("watch without a token: err=%v resp=%v, want HTTP 401", err, resp)
	}
	conn, _, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"X-Domain-Name": {"default"}, "Authorization": {"Bearer " + rootToken}})
	if err != nil {
		t.Fatalf("watch with a token: %v", err)
	}
	conn.Close()

	// 7. A wrong password is refused with 401202.
	status, body = rawCall(t, http.MethodPost, base+sc.TokenPath, "", rbac.AuthUser{Username: dev, Password: "Wrong#Pass1"})
	if status != http.StatusUnauthorized || errorCode(body) != "401202" {
		t.Errorf("POST %s with a wrong password: status %d body %s, want 401 with errorCode 401202", sc.TokenPath, status, body)
	}

	if ok, err := c.UnregisterMicroServiceInstance(providerID, iid); err != nil || !ok {
		t.Errorf("UnregisterMicroServiceInstance with a token: ok=%v err=%v", ok, err)
	}
}
