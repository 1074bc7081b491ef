package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"testing"
	"time"
)

// On shutdown a request already being handled is finished and answered;
// only new connections are refused.
func TestShutdownFinishesTheRequestInFlight(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("shutdown@example.com")

	body, send := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, a.base+"/v1/clients", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	// With Expect: 100-continue the body is sent only once the handler
	// reads it: when "100 Continue" arrives, the request is in flight.
	req.Header.Set("Expect", "100-continue")
	inFlight := make(chan struct{})
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		Got100Continue: func() { close(inFlight) },
	}))
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Hour}}
	answered := make(chan *http.Response, 1)
	go func() {
		res, err := client.Do(req)
		if err != nil {
			t.Errorf("the request in flight failed: %v", err)
		}
		answered <- res
	}()
	// One writer, so the body's two halves cannot swap places: the second
	// is sent only once the shutdown has begun.
	release := make(chan struct{})
	go func() {
		_, _ = send.Write([]byte(`{"name": "Inès", `))
		<-release
		_, _ = send.Write([]byte(`"email": "ines@example.com"}`))
		_ = send.Close()
	}()
	<-inFlight

	closed := make(chan error, 1)
	go func() { closed <- a.m.Close() }()
	// Wait until the listener is closed: the shutdown has begun.
	for {
		c, err := net.Dial("tcp", a.m.Addr)
		if err != nil {
			break
		}
		c.Close()
	}
	select {
	case err := <-closed:
		t.Fatalf("shutdown returned (%v) before the request in flight was answered", err)
	default:
	}
	close(release)

	res := <-answered
	if res == nil {
		return
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("the request in flight got %d %s, want 201", res.StatusCode, b)
	}
	if err := <-closed; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}
