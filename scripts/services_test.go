// Package scripts holds the shell scripts `make run` and `make test` call;
// this test runs scripts/services.sh for real in a scratch copy of the tree.
package scripts

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// scratch is a copy of the project's scripts with a .data that already
// holds the stripe-mock binary (built by `make test`'s own services).
func scratch(t *testing.T) string {
	t.Helper()
	mock, err := filepath.Abs("../.data/bin/stripe-mock")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(mock); err != nil {
		t.Fatalf("stripe-mock is not built (run scripts/services.sh up first): %v", err)
	}
	root := t.TempDir()
	script, err := os.ReadFile("services.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"scripts", ".data/bin"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "scripts/services.sh"), script, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(mock, filepath.Join(root, ".data/bin/stripe-mock")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = services(t, root, nil, "down") })
	return root
}

// services runs scripts/services.sh with args in root.
func services(t *testing.T, root string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{filepath.Join(root, "scripts/services.sh")}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func readEnv(t *testing.T, file string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`export (\w+)='([^']*)'`).FindAllStringSubmatch(string(b), -1) {
		out[m[1]] = m[2]
	}
	return out
}

// A stranger answering on the port the pid file's stripe-mock was said to
// use is not taken for it: the script starts its own and points Carnet there.
// Not parallel: both tests start a stripe-mock on the first free port.
func TestServicesRefusesAStrangerForStripeMock(t *testing.T) {
	if os.Getenv("DATABASE_URL") == "" {
		t.Fatal("DATABASE_URL is not set: run with `make test`")
	}
	root := scratch(t)
	stranger := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"object": "list", "data": []}`)
	}))
	defer stranger.Close()
	// Our stripe-mock is alive, its pid file says so, but the port file
	// names the stranger's port (a restart moved it, or the stranger took
	// the port first).
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ownPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	mock := exec.Command(filepath.Join(root, ".data/bin/stripe-mock"), "-http-addr", fmt.Sprintf("127.0.0.1:%d", ownPort), "-https-addr", "127.0.0.1:0")
	if err := mock.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = mock.Process.Kill(); _ = mock.Wait() }()
	strangerPort := strings.TrimPrefix(stranger.URL, "http://127.0.0.1:")
	_ = os.WriteFile(filepath.Join(root, ".data/stripe-mock.pid"), []byte(fmt.Sprint(mock.Process.Pid)), 0o644)
	_ = os.WriteFile(filepath.Join(root, ".data/stripe-mock.port"), []byte(strangerPort), 0o644)

	if out, err := services(t, root, nil, "up"); err != nil {
		t.Fatalf("services up: %v\n%s", err, out)
	}
	base := readEnv(t, filepath.Join(root, ".data/services.env"))["STRIPE_API_BASE"]
	if base == stranger.URL {
		t.Fatalf("Carnet was pointed at the stranger on %s", base)
	}
	// What answers there is a real stripe-mock: it makes customers.
	req, _ := http.NewRequest("POST", base+"/v1/customers", strings.NewReader("email=a%40example.com"))
	req.SetBasicAuth("sk_test_123", "")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var cus struct {
		Object string `json:"object"`
	}
	if err := json.NewDecoder(res.Body).Decode(&cus); err != nil || cus.Object != "customer" {
		t.Fatalf("%s is no stripe-mock: %v %+v", base, err, cus)
	}
}

// The cluster `make run` uses keeps what it acknowledged (fsync and
// synchronous commit on); the test cluster is fast; a cluster left with the
// wrong settings is restarted with the right ones.
func TestServicesDurableRunClusterFastTestCluster(t *testing.T) {
	root := scratch(t)
	env := []string{"DATABASE_URL=", "SERVICES_LOCAL_PG=1"}
	settings := func(file string) string {
		url := readEnv(t, filepath.Join(root, ".data", file))["DATABASE_URL"]
		out, err := exec.Command("psql", url, "-AtXc", "select current_setting('fsync') || ' ' || current_setting('synchronous_commit')").CombinedOutput()
		if err != nil {
			t.Fatalf("psql %s: %v %s", url, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	start := time.Now()
	for _, profile := range [][]string{{"up"}, {"up", "test"}} {
		if out, err := services(t, root, env, profile...); err != nil {
			t.Fatalf("services %v: %v\n%s", profile, err, out)
		}
	}
	if got := settings("services.env"); got != "on on" {
		t.Errorf("make run's cluster: fsync, synchronous_commit = %s, want on on", got)
	}
	if got := settings("services-test.env"); got != "off off" {
		t.Errorf("the test cluster: fsync, synchronous_commit = %s, want off off", got)
	}
	// A run cluster left fast (as the previous script made every cluster) is
	// restarted durable.
	conf := filepath.Join(root, ".data/pg/data/carnet.conf")
	b, _ := os.ReadFile(conf)
	_ = os.WriteFile(conf, []byte(strings.ReplaceAll(strings.ReplaceAll(string(b), "fsync = on", "fsync = off"),
		"synchronous_commit = on", "synchronous_commit = off")), 0o644)
	url := readEnv(t, filepath.Join(root, ".data/services.env"))["DATABASE_URL"]
	if out, err := exec.Command("psql", url, "-AtXc", "select pg_reload_conf()").CombinedOutput(); err != nil {
		t.Fatalf("reload: %v %s", err, out)
	}
	time.Sleep(300 * time.Millisecond)
	if got := settings("services.env"); got != "off off" {
		t.Fatalf("could not make the cluster fast to begin with: %s", got)
	}
	if out, err := services(t, root, env, "up"); err != nil {
		t.Fatalf("services up again: %v\n%s", err, out)
	}
	if got := settings("services.env"); got != "on on" {
		t.Errorf("a fast run cluster stayed fast: %s", got)
	}
	t.Logf("three `services.sh up` with two initdb took %v", time.Since(start))
}
