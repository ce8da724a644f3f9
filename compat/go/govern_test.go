package compat

import (
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/go-chassis/cari/discovery"
	sc "github.com/go-chassis/sc-client"
)

// Issue #18 items 11 and 12 through go-chassis sc-client: a provider restarted on a new port
// with its fixed instance id, and the governance calls GetAllApplications / GetAllResources.
func TestScClientReregistrationAndGovern(t *testing.T) {
	c := newClient(t, scAddr(t))
	app := fmt.Sprintf("compat-gov-%d%04d", time.Now().Unix(), rand.Intn(10000))
	serviceID, err := c.RegisterService(&discovery.MicroService{AppId: app, ServiceName: "gov-provider", Version: "1.0.0", Status: sc.MicorserviceUp})
	if err != nil {
		t.Fatalf("RegisterService: %v", err)
	}
	t.Cleanup(func() { _, _ = c.UnregisterMicroService(serviceID) })
	instance := func(port int) *discovery.MicroServiceInstance {
		return &discovery.MicroServiceInstance{InstanceId: "fixed-" + app, ServiceId: serviceID, HostName: "h", Status: sc.MSInstanceUP,
			Endpoints: []string{fmt.Sprintf("rest://127.0.0.1:%d", port)}, HealthCheck: &discovery.HealthCheck{Mode: sc.CheckByHeartbeat, Interval: 30, Times: 3}}
	}
	if _, err := c.RegisterMicroServiceInstance(instance(7001)); err != nil {
		t.Fatalf("register: %v", err)
	}
	// The provider restarts on another port with the same id: only the new endpoint is found.
	id, err := c.RegisterMicroServiceInstance(instance(7002))
	if err != nil || id != "fixed-"+app {
		t.Fatalf("re-register: %q %v", id, err)
	}
	found, err := c.FindMicroServiceInstances("", app, "gov-provider", "latest", sc.WithoutRevision())
	if err != nil || len(found) != 1 || found[0].Endpoints[0] != "rest://127.0.0.1:7002" {
		t.Fatalf("after the restart: %v %s", err, toJSON(found))
	}
	// No id, the same endpoint: the existing instance, not a second one.
	again := instance(7002)
	again.InstanceId = ""
	if id, err := c.RegisterMicroServiceInstance(again); err != nil || id != "fixed-"+app {
		t.Fatalf("same endpoints: %q %v", id, err)
	}

	apps, err := c.GetAllApplications()
	if err != nil {
		t.Fatalf("GetAllApplications: %v", err)
	}
	seen := false
	for _, a := range apps {
		seen = seen || a == app
	}
	if !seen {
		t.Fatalf("GetAllApplications: %v lacks %s", apps, app)
	}
	details, err := c.GetAllResources("instances")
	if err != nil {
		t.Fatalf("GetAllResources: %v", err)
	}
	for _, d := range details {
		if d.MicroService.ServiceId == serviceID {
			if len(d.Instances) != 1 || d.Instances[0].InstanceId != "fixed-"+app {
				t.Fatalf("GetAllResources: %s", toJSON(d))
			}
			return
		}
	}
	t.Fatalf("GetAllResources: no detail of %s", serviceID)
}
