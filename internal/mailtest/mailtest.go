// Package mailtest is a real SMTP server (emersion/go-smtp) for tests, run
// inside the test process; it keeps what it receives.
package mailtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one message the test SMTP server accepted.
type Received struct {
	From    string
	To      []string
	Header  mail.Header
	Subject string
	Body    string // the plain-text part (or the whole body of a one-part message)
	HTML    string // the text/html part of a multipart/alternative message
}

// Server is a real SMTP server (emersion/go-smtp) in the test process
// that keeps what it receives. rejectRcpt makes it refuse recipients, as a
// server in trouble does; user/password make it require AUTH PLAIN.
type Server struct {
	t          testing.TB
	addr       string
	mu         sync.Mutex
	got        []Received
	rejectRcpt bool
	user, pass string
}

// Mode is how the server speaks TLS.
type Mode int

const (
	PlainSMTP   Mode = iota // no TLS
	StartTLS                // offers STARTTLS
	ImplicitTLS             // TLS from the first byte (smtps)
)

// Start starts a server on 127.0.0.1; with TLS it returns the pool
// that trusts its certificate.
func Start(t testing.TB, mode Mode) (*Server, *x509.CertPool) {
	t.Helper()
	m := &Server{t: t}
	s := smtp.NewServer(m)
	s.Domain = "localhost"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.AllowInsecureAuth = true
	s.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var pool *x509.CertPool
	if mode != PlainSMTP {
		var cert tls.Certificate
		cert, pool = selfSigned(t)
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		if mode == ImplicitTLS {
			l = tls.NewListener(l, s.TLSConfig)
		}
	}
	m.addr = l.Addr().String()
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	return m, pool
}

// SetAuth makes the server require AUTH PLAIN with these credentials.
func (m *Server) SetAuth(user, pass string) {
	m.mu.Lock()
	m.user, m.pass = user, pass
	m.mu.Unlock()
}

func (m *Server) credentials() (string, string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.user, m.pass
}

// URL is the server's address as an SMTP_URL with the given scheme.
func (m *Server) URL(scheme string) string {
	if user, pass := m.credentials(); user != "" {
		return scheme + "://" + user + ":" + pass + "@" + m.addr
	}
	return scheme + "://" + m.addr
}

// SetReject makes the server refuse recipients (451), as a server in trouble does.
func (m *Server) SetReject(v bool) {
	m.mu.Lock()
	m.rejectRcpt = v
	m.mu.Unlock()
}

// Messages returns what the server accepted so far.
func (m *Server) Messages() []Received {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Received(nil), m.got...)
}

// NewSession is go-smtp's backend hook.
func (m *Server) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{server: m}, nil }

type session struct {
	server *Server
	authed bool
	from   string
	to     []string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if u, p := s.server.credentials(); user != u || pass != p {
			return errors.New("invalid credentials")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if u, _ := s.server.credentials(); u != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.server.mu.Lock()
	reject := s.server.rejectRcpt
	s.server.mu.Unlock()
	if reject {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "mailbox busy, try later"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return err
	}
	got := Received{From: s.from, To: s.to, Header: msg.Header, Subject: subject}
	media, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(media, "multipart/") {
		if got.Body, err = decodePart(msg.Header.Get("Content-Transfer-Encoding"), msg.Body); err != nil {
			return err
		}
	} else {
		mr := multipart.NewReader(msg.Body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			text, err := decodePart(p.Header.Get("Content-Transfer-Encoding"), p)
			if err != nil {
				return err
			}
			switch ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct {
			case "text/plain":
				got.Body = text
			case "text/html":
				got.HTML = text
			}
		}
	}
	s.server.mu.Lock()
	s.server.got = append(s.server.got, got)
	s.server.mu.Unlock()
	return nil
}

func decodePart(encoding string, r io.Reader) (string, error) {
	if strings.EqualFold(encoding, "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	return strings.ReplaceAll(string(b), "\r\n", "\n"), err
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and the pool that trusts it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "carnet test smtp"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
