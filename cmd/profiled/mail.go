package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/mailer"
)

// mailConfig is how serve sends mail: over SMTP, from the outbox.
type mailConfig struct {
	smtpURL, from, templates string
	// signup lets anyone make an account, its address verified by mail.
	signup bool
}

func mailFlags(fs *flagSet) *mailConfig {
	c := &mailConfig{}
	fs.envString(&c.smtpURL, "smtp-url", "PROFILED_SMTP_URL", "",
		"send mail through this SMTP server `URL`: smtp://user:password@host:587 (STARTTLS when offered) or smtps://...:465 (TLS); unset: no mail is sent. Prefer the environment variable, which keeps the password out of the process list")
	fs.envString(&c.from, "mail-from", "PROFILED_MAIL_FROM", "", "the sender `ADDRESS` of profiled's mail, e.g. \"Example Accounts <accounts@example.com>\" (required with --smtp-url)")
	fs.envString(&c.templates, "mail-templates", "PROFILED_MAIL_TEMPLATES", "",
		"a `DIR` of mail templates (NAME.txt: a Subject: line, a blank line, the text; NAME.html) that replace the built-in ones of the same name")
	fs.BoolVar(&c.signup, "signup", false,
		"let anyone make an account of their own (POST /auth/signup and its page), its address verified by mail; needs --smtp-url and --public-url")
	fs.twin("signup", "PROFILED_SIGNUP")
	return c
}

// sender is the mail deliverer, or nil without --smtp-url.
func (c *mailConfig) sender() (core.Deliverer, error) {
	if c.smtpURL == "" {
		if c.signup {
			return nil, usagef("--signup needs --smtp-url, --mail-from and --public-url: sign-up verifies the address by mail")
		}
		return nil, nil
	}
	templates, err := mailer.LoadTemplates(c.templates)
	if err != nil {
		return nil, usagef("--mail-templates: %v", err)
	}
	s, err := mailer.New(c.smtpURL, c.from, templates)
	if err != nil {
		return nil, usagef("--smtp-url: %v", err)
	}
	return s, nil
}

// runWorker delivers the outbox's messages of topic with d until ctx
// ends; what it has not delivered stays in the outbox for the next start
// or another replica. The returned func stops it and waits.
func runWorker(ctx context.Context, svc *core.Service, topic string, d core.Deliverer, logger *slog.Logger, what string) func() {
	wctx, stop := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		_ = svc.RunOutbox(wctx, topic, d, core.OutboxOptions{OnError: func(m core.OutboxMessage, err error) {
			attrs := []any{slog.Int64("message_id", m.ID), slog.Int("attempts", m.Attempts), slog.String("error", err.Error())}
			if errors.Is(err, core.ErrUndeliverable) {
				logger.Error(what+" can never be delivered and was dropped", attrs...)
				return
			}
			logger.Warn(what+" was not delivered; it will be tried again", attrs...)
		}})
	}()
	return func() { stop(); <-stopped }
}
