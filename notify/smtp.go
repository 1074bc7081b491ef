package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"os"
	"strings"
	"time"
)

// smtpTarget is a parsed SMTP_URL.
type smtpTarget struct {
	addr, host     string
	implicitTLS    bool
	user, password string
}

// CheckSMTPURL reports whether raw is an SMTP_URL the dispatcher can use
// (empty is fine: messages are kept), so a bad one stops the program at start.
func CheckSMTPURL(raw string) error {
	if raw == "" {
		return nil
	}
	_, err := parseSMTPURL(raw)
	return err
}

// parseSMTPURL reads smtp://user:pass@host:port (port 25 by default) or
// smtps://user:pass@host:port (port 465 by default).
func parseSMTPURL(raw string) (smtpTarget, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return smtpTarget{}, errors.New("SMTP_URL is not a URL") // the error would echo the password
	}
	var t smtpTarget
	port := "25"
	switch u.Scheme {
	case "smtp":
	case "smtps":
		t.implicitTLS, port = true, "465"
	default:
		return t, fmt.Errorf("SMTP_URL scheme must be smtp or smtps, not %q", u.Scheme)
	}
	t.host = u.Hostname()
	if t.host == "" {
		return t, errors.New("SMTP_URL has no host")
	}
	if p := u.Port(); p != "" {
		port = p
	}
	t.addr = net.JoinHostPort(t.host, port)
	if u.User != nil {
		t.user = u.User.Username()
		t.password, _ = u.User.Password()
	}
	return t, nil
}

// send delivers one message, within sendTimeout.
func (d *Dispatcher) send(ctx context.Context, m outgoing, r Rendered, msgID string) error {
	target, err := parseSMTPURL(d.SMTPURL)
	if err != nil {
		return err
	}
	from, err := mail.ParseAddress(d.from())
	if err != nil {
		return fmt.Errorf("sender %q: %w", d.from(), err)
	}
	rcpt, err := mail.ParseAddress(m.Recipient)
	if err != nil {
		return fmt.Errorf("recipient %q: %w", m.Recipient, err)
	}
	// A client's message comes from their coach: the coach's name is the
	// sender's and replies go to the coach. The envelope and the address
	// stay Carnet's (the coach's domain would fail SPF/DMARC).
	var replyTo *mail.Address
	if m.CoachName != "" && !strings.EqualFold(m.CoachEmail, rcpt.Address) {
		from = &mail.Address{Name: m.CoachName, Address: from.Address}
		if a, err := mail.ParseAddress(m.CoachEmail); err == nil {
			replyTo = a
		}
	}
	msg, err := compose(from, rcpt, replyTo, r, msgID, d.now())
	if err != nil {
		return err
	}

	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", target.addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	tlsConfig := &tls.Config{ServerName: target.host, RootCAs: d.rootCAs, MinVersion: tls.VersionTLS12}
	if target.implicitTLS {
		conn = tls.Client(conn, tlsConfig)
	}
	c, err := smtp.NewClient(conn, target.host)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello(helloName()); err != nil {
		return err
	}
	if !target.implicitTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConfig); err != nil {
				return err
			}
		}
	}
	if target.user != "" {
		// PlainAuth refuses to send the password in clear, except to localhost.
		if err := c.Auth(smtp.PlainAuth("", target.user, target.password, target.host)); err != nil {
			return err
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return err
	}
	if err := c.Rcpt(rcpt.Address); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// compose writes the message: multipart/alternative, UTF-8 plain text then
// HTML, each quoted-printable.
func compose(from, to, replyTo *mail.Address, r Rendered, msgID string, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", from.String())
	header("To", to.String())
	if replyTo != nil {
		header("Reply-To", replyTo.String())
	}
	header("Subject", mime.QEncoding.Encode("utf-8", r.Subject))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", msgID)
	header("MIME-Version", "1.0")
	mw := multipart.NewWriter(&b)
	header("Content-Type", `multipart/alternative; boundary="`+mw.Boundary()+`"`)
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	for _, part := range []struct{ kind, body string }{{"text/plain", r.Text}, {"text/html", r.HTML}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {part.kind + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"}})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(strings.ReplaceAll(part.body, "\r\n", "\n"))); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// helloName is the name given in EHLO: this machine's, when it has one.
func helloName() string {
	if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \r\n") {
		return h
	}
	return "localhost"
}
