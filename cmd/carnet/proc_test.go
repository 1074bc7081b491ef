package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"
)

// The real binary, built once for the tests that start it as a process (with
// the race detector when the tests have it, which also reuses their cache).
var carnetBuild struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if carnetBuild.dir != "" {
		os.RemoveAll(carnetBuild.dir)
	}
	os.Exit(code)
}

func carnetBinary(t *testing.T) string {
	t.Helper()
	b := &carnetBuild
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "carnet-bin-"); b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "carnet")
		args := []string{"build", "-o", b.path}
		if raceEnabled {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// proc is one `carnet serve` process.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	base   string
	stderr bytes.Buffer
	exited chan struct{}
	state  *os.ProcessState
}

// crashSecret signs the webhooks the tests deliver to the processes.
const crashSecret = "whsec_crash_test_secret"

// serve starts the binary on url with extra environment (CARNET_FAILPOINTS)
// and returns once it is ready.
func serve(t *testing.T, url, stripeBase string, env ...string) *proc {
	t.Helper()
	return serveBinary(t, carnetBinary(t), http.StatusOK, url, stripeBase, env...)
}

// serveBinary starts bin and returns once its /readyz answers ready.
func serveBinary(t *testing.T, bin string, ready int, url, stripeBase string, env ...string) *proc {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := &proc{t: t, base: "http://" + addr, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, "serve")
	p.cmd.Env = append(cleanEnv(), "DATABASE_URL="+url, "CARNET_ADDR="+addr, "STRIPE_API_BASE="+stripeBase,
		"STRIPE_WEBHOOK_SECRET="+crashSecret, "CARNET_LOG_LEVEL=warn", "CARNET_BASE_URL=http://carnet.test")
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		p.state = p.cmd.ProcessState
		close(p.exited)
	}()
	t.Cleanup(p.kill)
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(p.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == ready {
				return p
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("carnet exited before it was ready: %v\n%s", p.state, p.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("carnet not ready after a minute:\n%s", p.stderr.String())
		}
	}
}

// distinct counts the different idempotency keys among keys.
func distinct(keys []string) int {
	return len(slices.Compact(slices.Sorted(slices.Values(keys))))
}

// cleanEnv is the test's environment without what serve sets itself.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "DATABASE_URL", "CARNET_ADDR", "STRIPE_API_BASE", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET",
			"CARNET_FAILPOINTS", "CARNET_LOG_LEVEL", "CARNET_BASE_URL", "SMTP_URL":
			continue
		}
		env = append(env, kv)
	}
	return env
}

func (p *proc) kill() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
	}
	<-p.exited
}

// killed waits for the process to have died of SIGKILL (a failpoint).
func (p *proc) killed() {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		p.t.Fatalf("carnet still running after its failpoint:\n%s", p.stderr.String())
	}
	ws, ok := p.state.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		p.t.Fatalf("carnet ended with %v, want SIGKILL at its failpoint:\n%s", p.state, p.stderr.String())
	}
}

// call is one API request, replayable with its key.
type call struct {
	path, key string
	body      any
}

type answer struct {
	status   int
	body     []byte
	replayed bool
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer is not JSON: %s", a.body)
	}
	return m
}

// send posts c with the coach's key; a dropped connection is an error.
func (p *proc) send(token string, c call) (answer, error) {
	js, _ := json.Marshal(c.body)
	req, _ := http.NewRequest(http.MethodPost, p.base+c.path, bytes.NewReader(js))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if c.key != "" {
		req.Header.Set("Idempotency-Key", c.key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{status: res.StatusCode, body: b, replayed: res.Header.Get("Idempotent-Replayed") == "true"}, nil
}

// must sends c and fails the test unless it is answered 2xx.
func (p *proc) must(token string, c call) answer {
	p.t.Helper()
	a, err := p.send(token, c)
	if err != nil || a.status >= 300 {
		p.t.Fatalf("POST %s: %d %s %v\n%s", c.path, a.status, a.body, err, p.stderr.String())
	}
	return a
}

// deliver posts one signed Stripe event; a dropped connection is an error.
func (p *proc) deliver(payload []byte) (int, error) {
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: crashSecret})
	req, _ := http.NewRequest(http.MethodPost, p.base+"/webhooks/stripe", bytes.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", signed.Header)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	res.Body.Close()
	if res.StatusCode >= 300 {
		return res.StatusCode, errors.New(res.Status)
	}
	return res.StatusCode, nil
}
