package reqlog

import (
	"context"
	"log/slog"

	"github.com/profiled/profiled/core"
)

// SecurityEvents is the core's event sink that writes each security event
// as one "security event" log line at level WARN for failures and lockouts
// and INFO otherwise, with what the request log knows of the request it
// happened in (its id, client address and user agent), so an operator can
// follow an account's history, or alert on failures, from the log alone.
type SecurityEvents struct{ Log *slog.Logger }

var _ core.EventSink = SecurityEvents{}

// Event logs e.
func (s SecurityEvents) Event(ctx context.Context, e core.Event) {
	level := slog.LevelInfo
	if e.Name == core.EventSignInFailed || e.Name == core.EventSignInLocked {
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("event", e.Name),
		slog.Int64("user_id", e.UserID),
		slog.String("username", clip(e.Username, 128)),
	}
	if e.Detail != "" {
		attrs = append(attrs, slog.String("detail", clip(e.Detail, 256)))
	}
	if en := from(ctx); en != nil {
		attrs = append(attrs, slog.String("request_id", en.id), slog.String("client", en.client),
			slog.String("user_agent", en.userAgent))
	}
	s.Log.LogAttrs(ctx, level, "security event", attrs...)
}
