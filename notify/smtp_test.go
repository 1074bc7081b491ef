package notify

import (
	"strings"
	"testing"
)

func TestParseSMTPURL(t *testing.T) {
	for raw, want := range map[string]smtpTarget{
		"smtp://mail.example.com":              {addr: "mail.example.com:25", host: "mail.example.com"},
		"smtp://u:p%40ss@mail.example.com:587": {addr: "mail.example.com:587", host: "mail.example.com", user: "u", password: "p@ss"},
		"smtps://u:p@mail.example.com":         {addr: "mail.example.com:465", host: "mail.example.com", implicitTLS: true, user: "u", password: "p"},
	} {
		got, err := parseSMTPURL(raw)
		if err != nil || got != want {
			t.Errorf("%s: %+v, %v", raw, got, err)
		}
	}
	for _, raw := range []string{"http://x", "smtp://", "smtp://u:p@[bad"} {
		if err := CheckSMTPURL(raw); err == nil {
			t.Errorf("%s accepted", raw)
		} else if strings.Contains(err.Error(), ":p@") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

func TestCheckSMTPURLAcceptsEmpty(t *testing.T) {
	if err := CheckSMTPURL(""); err != nil {
		t.Error(err)
	}
}
