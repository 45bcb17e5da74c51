// Package outbound makes the POSTs profiled sends to servers it does not
// run (the events webhook, the SMS webhook, relying parties' back-channel
// logout endpoints), the same way each time.
package outbound

import (
	"bytes"
	"context"
	"io"
	"net/http"
)

// maxBody is how much of an answer is read: enough to say why a request
// was refused, and to read it out so the connection is reused.
const maxBody = 64 << 10

// Post POSTs body, of contentType and with userAgent and the headers
// given, to url through client (nil: http.DefaultClient). It returns the
// answer with its body closed, and the first 64 KiB of that body. An error
// is a request that could not be made, or no answer.
func Post(ctx context.Context, client *http.Client, url, contentType, userAgent string, body []byte, header map[string]string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", userAgent)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return resp, answer, nil
}
