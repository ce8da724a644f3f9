package compat

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chassis/cari/discovery"
	sc "github.com/go-chassis/sc-client"
	"github.com/gorilla/websocket"
)

const (
	envAddr      = "OPENSTAGE_SC_ADDR"
	registryBase = "/v4/default/registry"
	eventTimeout = 10 * time.Second
)

// scAddr returns the server address from OPENSTAGE_SC_ADDR and checks that
// something listens there. It fails (never skips) when the variable is unset:
// the sc-client silently falls back to 127.0.0.1:30100 for unreachable
// addresses, which would make failures confusing.
func scAddr(t *testing.T) string {
	t.Helper()
	addr := strings.TrimSpace(os.Getenv(envAddr))
	if addr == "" {
		t.Fatalf("%s is not set: set it to the host:port of a running OpenStage server "+
			"(e.g. 127.0.0.1:30100), or run compat/run-go.sh, which starts one", envAddr)
	}
	addr = strings.TrimPrefix(strings.TrimPrefix(addr, "http://"), "ws://")
	addr = strings.TrimSuffix(addr, "/")
	conn, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		t.Fatalf("%s=%s: cannot connect to the server: %v", envAddr, addr, err)
	}
	_ = conn.Close()
	return addr
}

// wsDials counts websocket connections the client opens. The client
// reconnects silently when the server closes the watch socket or sends a
// frame that is not a JSON event, so a count above 1 points at such a problem.
var wsDials int32

func newClient(t *testing.T, addr string) *sc.Client {
	t.Helper()
	if _, ok := os.LookupEnv(sc.EnvProjectID); !ok {
		os.Setenv(sc.EnvProjectID, "default")
	}
	// Without SSL the client uses websocket.DefaultDialer; count its dials.
	websocket.DefaultDialer.NetDial = func(network, a string) (net.Conn, error) {
		atomic.AddInt32(&wsDials, 1)
		return net.DialTimeout(network, a, 5*time.Second)
	}
	c, err := sc.NewClient(sc.Options{Endpoints: []string{addr}, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("sc.NewClient(%s): %v", addr, err)
	}
	return c
}

// eventLog collects watch events delivered to the sc-client callback.
type eventLog struct {
	mu     sync.Mutex
	events []*sc.MicroServiceInstanceChangedEvent
	ch     chan *sc.MicroServiceInstanceChangedEvent
}

func newEventLog() *eventLog {
	return &eventLog{ch: make(chan *sc.MicroServiceInstanceChangedEvent, 256)}
}

func (l *eventLog) callback(ev *sc.MicroServiceInstanceChangedEvent) {
	l.mu.Lock()
	l.events = append(l.events, ev)
	l.mu.Unlock()
	select {
	case l.ch <- ev:
	default:
	}
}

func (l *eventLog) dump() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.events) == 0 {
		return "(no events received at all)"
	}
	parts := make([]string, 0, len(l.events))
	for _, ev := range l.events {
		parts = append(parts, toJSON(ev))
	}
	return strings.Join(parts, "\n")
}

// waitFor waits for an event with the given action about the given instance.
func (l *eventLog) waitFor(t *testing.T, action, instanceID string) *sc.MicroServiceInstanceChangedEvent {
	t.Helper()
	deadline := time.After(eventTimeout)
	for {
		select {
		case ev := <-l.ch:
			if ev.Action == action && ev.Instance != nil && ev.Instance.InstanceId == instanceID {
				return ev
			}
		case <-deadline:
			t.Fatalf("no watch event {action:%q, instance.instanceId:%q} within %s on "+
				"GET %s/microservices/{consumerId}/watcher (websocket dials by the client: %d; >1 means "+
				"the server closed the socket or sent a frame that is not a JSON event).\nEvents received:\n%s",
				action, instanceID, eventTimeout, registryBase, atomic.LoadInt32(&wsDials), l.dump())
			return nil
		}
	}
}

func toJSON(v interface{}) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}

func findInstance(list []*discovery.MicroServiceInstance, id string) *discovery.MicroServiceInstance {
	for _, in := range list {
		if in != nil && in.InstanceId == id {
			return in
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// checkInstance compares an instance returned by the server with what was registered.
func checkInstance(t *testing.T, where string, got *discovery.MicroServiceInstance,
	id, serviceID, endpoint, host string) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: instance %s missing", where, id)
	}
	if got.InstanceId != id {
		t.Errorf("%s: instanceId = %q, want %q", where, got.InstanceId, id)
	}
	if got.ServiceId != serviceID {
		t.Errorf("%s: serviceId = %q, want %q (instance %s)", where, got.ServiceId, serviceID, toJSON(got))
	}
	if !contains(got.Endpoints, endpoint) {
		t.Errorf("%s: endpoints = %v, want to contain %q", where, got.Endpoints, endpoint)
	}
	if got.HostName != host {
		t.Errorf("%s: hostName = %q, want %q", where, got.HostName, host)
	}
	if got.Status != sc.MSInstanceUP {
		t.Errorf("%s: status = %q, want %q", where, got.Status, sc.MSInstanceUP)
	}
}

// rawFind does the find request by hand to look at what the client hides:
// the status code and the X-Resource-Revision header.
func rawFind(t *testing.T, addr, consumerID, app, name, version string) (int, string, []byte) {
	t.Helper()
	q := url.Values{"appId": {app}, "serviceName": {name}, "version": {version}}
	u := "http://" + addr + registryBase + "/instances?" + q.Encode()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-ConsumerId", consumerID)
	req.Header.Set("X-Domain-Name", "default")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get(sc.HeaderRevision), body
}

func TestScClientRegistryDiscoveryWatch(t *testing.T) {
	addr := scAddr(t)
	c := newClient(t, addr)

	suffix := fmt.Sprintf("%d%04d", time.Now().Unix(), rand.Intn(10000))
	app := "compat-go-" + suffix
	providerName := "compat-provider"
	consumerName := "compat-consumer"
	const version = "1.0.0"
	const ep1, host1 = "rest://127.0.0.1:8080", "compat-host-1"
	const ep2, host2 = "rest://127.0.0.1:8081", "compat-host-2"

	// Best-effort cleanup in case a step fails half-way.
	var live sync.Map // serviceId -> true while not deleted
	t.Cleanup(func() {
		live.Range(func(k, _ interface{}) bool {
			_, _ = c.UnregisterMicroService(k.(string))
			return true
		})
	})

	// 1. Register the provider microservice.
	provider := &discovery.MicroService{
		AppId:       app,
		ServiceName: providerName,
		Version:     version,
		Environment: "",
		Level:       "FRONT",
		Status:      sc.MicorserviceUp,
	}
	providerID, err := c.RegisterService(provider)
	if err != nil {
		t.Fatalf("RegisterService(provider): POST %s/microservices: %v", registryBase, err)
	}
	if providerID == "" {
		t.Fatalf("RegisterService(provider): empty serviceId in the response")
	}
	live.Store(providerID, true)
	t.Logf("provider registered: serviceId=%s", providerID)

	// 2. Register an instance of the provider.
	inst1 := &discovery.MicroServiceInstance{
		ServiceId:  providerID,
		Endpoints:  []string{ep1},
		HostName:   host1,
		Status:     sc.MSInstanceUP,
		Properties: map[string]string{"compat": "go"},
		HealthCheck: &discovery.HealthCheck{
			Mode:     sc.CheckByHeartbeat,
			Interval: sc.DefaultLeaseRenewalInterval,
			Times:    3,
		},
	}
	iid1, err := c.RegisterMicroServiceInstance(inst1)
	if err != nil {
		t.Fatalf("RegisterMicroServiceInstance: POST %s/microservices/%s/instances: %v", registryBase, providerID, err)
	}
	if iid1 == "" {
		t.Fatalf("RegisterMicroServiceInstance: empty instanceId in the response")
	}
	t.Logf("instance 1 registered: instanceId=%s", iid1)

	// 3. Heartbeat: must succeed for the instance, fail for an unknown one.
	ok, err := c.Heartbeat(providerID, iid1)
	if err != nil || !ok {
		t.Fatalf("Heartbeat: PUT %s/microservices/%s/instances/%s/heartbeat: ok=%v err=%v (want HTTP 200)",
			registryBase, providerID, iid1, ok, err)
	}
	ok, err = c.Heartbeat(providerID, "no-such-instance-"+suffix)
	if err == nil || ok {
		t.Errorf("Heartbeat for an unknown instance: PUT .../instances/no-such-instance-%s/heartbeat answered 200, "+
			"want an error status", suffix)
	}

	// 4. Register a consumer and find the provider's instances as that consumer.
	consumer := &discovery.MicroService{
		AppId:       app,
		ServiceName: consumerName,
		Version:     version,
		Status:      sc.MicorserviceUp,
	}
	consumerID, err := c.RegisterService(consumer)
	if err != nil {
		t.Fatalf("RegisterService(consumer): %v", err)
	}
	if consumerID == "" || consumerID == providerID {
		t.Fatalf("RegisterService(consumer): serviceId %q (provider is %q), want a new non-empty id", consumerID, providerID)
	}
	live.Store(consumerID, true)
	t.Logf("consumer registered: serviceId=%s", consumerID)

	found, err := c.FindMicroServiceInstances(consumerID, app, providerName, version)
	if err != nil {
		t.Fatalf("FindMicroServiceInstances: GET %s/instances?appId=%s&serviceName=%s&version=%s "+
			"(X-ConsumerId: %s): %v", registryBase, app, providerName, version, consumerID, err)
	}
	if len(found) != 1 {
		t.Fatalf("FindMicroServiceInstances: got %d instances, want exactly 1: %s", len(found), toJSON(found))
	}
	got := findInstance(found, iid1)
	checkInstance(t, "find", got, iid1, providerID, ep1, host1)
	if got != nil {
		if hc := got.HealthCheck; hc == nil || hc.Mode != sc.CheckByHeartbeat || hc.Interval != 30 || hc.Times != 3 {
			t.Errorf("find: healthCheck = %s, want {mode:push, interval:30, times:3}", toJSON(got.HealthCheck))
		}
		if got.Properties["compat"] != "go" {
			t.Errorf("find: properties = %v, want compat=go", got.Properties)
		}
	}

	status, rev, body := rawFind(t, addr, consumerID, app, providerName, version)
	if status != http.StatusOK {
		t.Errorf("raw GET %s/instances (X-ConsumerId set): status %d, want 200; body %s", registryBase, status, body)
	}
	if rev == "" {
		t.Errorf("raw GET %s/instances: response has no %s header", registryBase, sc.HeaderRevision)
	}

	_, err = c.FindMicroServiceInstances(consumerID, app, "no-such-service-"+suffix, version, sc.WithoutRevision())
	if !errors.Is(err, sc.ErrMicroServiceNotExists) {
		t.Errorf("find of an unknown provider: want HTTP 400 with body containing "+
			"\"errorCode\":\"400012\" (client's ErrMicroServiceNotExists), got err=%v", err)
	}

	// 5. Watch as the consumer; a new provider instance must be pushed (CREATE),
	// and its removal too (DELETE).
	events := newEventLog()
	if err := c.WatchMicroService(consumerID, events.callback); err != nil {
		t.Fatalf("WatchMicroService: websocket GET %s/microservices/%s/watcher: %v", registryBase, consumerID, err)
	}
	// Let the server finish setting up the subscription after the handshake.
	time.Sleep(500 * time.Millisecond)

	inst2 := &discovery.MicroServiceInstance{
		ServiceId: providerID,
		Endpoints: []string{ep2},
		HostName:  host2,
		Status:    sc.MSInstanceUP,
		HealthCheck: &discovery.HealthCheck{
			Mode:     sc.CheckByHeartbeat,
			Interval: sc.DefaultLeaseRenewalInterval,
			Times:    3,
		},
	}
	iid2, err := c.RegisterMicroServiceInstance(inst2)
	if err != nil || iid2 == "" {
		t.Fatalf("RegisterMicroServiceInstance(instance 2): id=%q err=%v", iid2, err)
	}
	if iid2 == iid1 {
		t.Fatalf("instance 2 got the same instanceId as instance 1: %s", iid2)
	}
	t.Logf("instance 2 registered: instanceId=%s", iid2)

	ev := events.waitFor(t, sc.EventCreate, iid2)
	checkInstance(t, "watch CREATE event", ev.Instance, iid2, providerID, ep2, host2)
	if ev.Key == nil {
		t.Errorf("watch CREATE event has no key: %s", toJSON(ev))
	} else {
		if ev.Key.AppId != app || ev.Key.ServiceName != providerName || ev.Key.Version != version {
			t.Errorf("watch CREATE event key = %s, want appId=%q serviceName=%q version=%q",
				toJSON(ev.Key), app, providerName, version)
		}
	}

	// The instance set changed, so a find (sending the last revision) must
	// return both instances, not 304.
	found, err = c.FindMicroServiceInstances(consumerID, app, providerName, version)
	if errors.Is(err, sc.ErrNotModified) {
		t.Fatalf("find after registering instance 2: server answered 304 Not Modified to ?rev=%s although "+
			"the instance set changed", rev)
	}
	if err != nil {
		t.Fatalf("find after registering instance 2: %v", err)
	}
	if len(found) != 2 || findInstance(found, iid1) == nil || findInstance(found, iid2) == nil {
		t.Fatalf("find after registering instance 2: got %s, want instances %s and %s", toJSON(found), iid1, iid2)
	}

	ok, err = c.UnregisterMicroServiceInstance(providerID, iid2)
	if err != nil || !ok {
		t.Fatalf("UnregisterMicroServiceInstance(instance 2): DELETE %s/microservices/%s/instances/%s: ok=%v err=%v",
			registryBase, providerID, iid2, ok, err)
	}
	ev = events.waitFor(t, sc.EventDelete, iid2)
	if ev.Instance.ServiceId != "" && ev.Instance.ServiceId != providerID {
		t.Errorf("watch DELETE event: instance.serviceId = %q, want %q", ev.Instance.ServiceId, providerID)
	}
	if ev.Key == nil || ev.Key.AppId != app || ev.Key.ServiceName != providerName {
		t.Errorf("watch DELETE event key = %s, want appId=%q serviceName=%q", toJSON(ev.Key), app, providerName)
	}

	found, err = c.FindMicroServiceInstances(consumerID, app, providerName, version)
	if err != nil {
		t.Fatalf("find after unregistering instance 2 (304 would mean a stale revision): %v", err)
	}
	if len(found) != 1 || findInstance(found, iid1) == nil {
		t.Fatalf("find after unregistering instance 2: got %s, want only %s", toJSON(found), iid1)
	}

	// 6. Clean up: unregister the instance, delete both services.
	ok, err = c.UnregisterMicroServiceInstance(providerID, iid1)
	if err != nil || !ok {
		t.Fatalf("UnregisterMicroServiceInstance(instance 1): ok=%v err=%v", ok, err)
	}
	events.waitFor(t, sc.EventDelete, iid1)

	found, err = c.FindMicroServiceInstances(consumerID, app, providerName, version, sc.WithoutRevision())
	if err != nil {
		t.Fatalf("find after unregistering every instance: %v (want 200 with no instances)", err)
	}
	if len(found) != 0 {
		t.Fatalf("find after unregistering every instance: got %s, want none", toJSON(found))
	}

	ok, err = c.UnregisterMicroService(providerID)
	if err != nil || !ok {
		t.Fatalf("UnregisterMicroService(provider): DELETE %s/microservices/%s?force=1: ok=%v err=%v",
			registryBase, providerID, ok, err)
	}
	live.Delete(providerID)

	_, err = c.FindMicroServiceInstances(consumerID, app, providerName, version, sc.WithoutRevision())
	if !errors.Is(err, sc.ErrMicroServiceNotExists) {
		t.Errorf("find of the deleted provider: want HTTP 400 with \"errorCode\":\"400012\", got err=%v", err)
	}

	ok, err = c.UnregisterMicroService(consumerID)
	if err != nil || !ok {
		t.Fatalf("UnregisterMicroService(consumer): ok=%v err=%v", ok, err)
	}
	live.Delete(consumerID)
}
