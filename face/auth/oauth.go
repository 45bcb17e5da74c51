package auth

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/face/httpx"
)

// authorizeParams are the query parameters of an authorization request,
// carried through the consent form in hidden fields.
var authorizeParams = []string{"client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge", "code_challenge_method", "nonce",
	"max_age", "acr_values", "resource"}

// pushedParams are what a pushed request (RFC 9126) keeps: those, and
// prompt, which the authorization page reads.
var pushedParams = append(slices.Clone(authorizeParams), "prompt")

// carried is what the consent form and a sign-in's way back carry of an
// authorization request v: its client_id and request_uri for a pushed
// request, whose parameters are read again from the server, else every
// parameter.
func carried(v url.Values) url.Values {
	q := url.Values{}
	if v.Get("request_uri") != "" {
		q.Set("client_id", v.Get("client_id"))
		q.Set("request_uri", v.Get("request_uri"))
		return q
	}
	for _, p := range authorizeParams {
		if x := v.Get(p); x != "" {
			q.Set(p, x)
		}
	}
	return q
}

// readAuthorize reads the authorization request v and validates it. A
// request that names a pushed request (request_uri) has its parameters
// replaced by those pushed, and keeps the other fields of v (a consent
// form's decision and scopes). On an error it answers (a page for the
// user, or a redirect for the application) and returns ok false.
func (s *server) readAuthorize(w http.ResponseWriter, r *http.Request, v url.Values) (core.Authorization, url.Values, bool) {
	req := authorizeRequest(v)
	if uri := v.Get("request_uri"); uri != "" {
		params, pushedAt, err := s.svc.PushedParams(r.Context(), v.Get("client_id"), uri)
		if err != nil {
			st, msg := s.pageError(w, r, err)
			s.errorPage(w, r, st, msg)
			return core.Authorization{}, nil, false
		}
		out := url.Values{}
		for k, vs := range v {
			if !slices.Contains(pushedParams, k) {
				out[k] = vs
			}
		}
		for _, p := range pushedParams {
			if x, ok := params[p]; ok {
				out.Set(p, x)
			}
		}
		v = out
		req = authorizeRequest(v)
		req.RequestURI, req.PushedAt = uri, pushedAt
	}
	az, ok := s.checkAuthorize(w, r, req)
	return az, v, ok
}

// loginServerQuery is an authorization request's parameters as the Linode
// login server reads them, so that what applications written for it send
// works unchanged: the scopes may come as scopes (linode_api4's
// LinodeLoginClient, linode-cli and many applications send that) as well
// as scope, separated by commas as well as spaces, and <category>:*
// (linode_api4's OAuthScopes.<Category>.all) asks for read_write. The
// result carries them as scope, in the core's grammar, through the
// consent form. v is not changed.
func loginServerQuery(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = vs
	}
	scope := v.Get("scope")
	if !v.Has("scope") {
		scope = v.Get("scopes")
	}
	delete(out, "scopes")
	if scope == "" {
		return out
	}
	entries := strings.FieldsFunc(scope, func(r rune) bool { return r == ',' || r == ' ' })
	for i, e := range entries {
		if category, all := strings.CutSuffix(e, ":*"); all && category != "" {
			entries[i] = category + ":" + core.ReadWrite
		}
	}
	out.Set("scope", strings.Join(entries, " "))
	return out
}

func authorizeRequest(v url.Values) core.AuthorizeRequest {
	return core.AuthorizeRequest{ClientID: v.Get("client_id"), RedirectURI: v.Get("redirect_uri"),
		ResponseType: v.Get("response_type"), Scope: v.Get("scope"), State: v.Get("state"),
		CodeChallenge: v.Get("code_challenge"), CodeChallengeMethod: v.Get("code_challenge_method"), Nonce: v.Get("nonce"),
		MaxAge: v.Get("max_age"), ACRValues: v.Get("acr_values"), Resource: resourceParam(v)}
}

// resourceParam is the resource parameter of a request (RFC 8707), its
// values joined: the core takes one, and refuses several as that.
func resourceParam(v url.Values) string { return strings.Join(v["resource"], " ") }

// redirectTo sends the browser back to the application with params added
// to its redirect URI's query (RFC 6749 4.1.2).
func redirectTo(w http.ResponseWriter, r *http.Request, redirectURI string, params url.Values) {
	u, err := url.Parse(redirectURI)
	if err != nil { // registered URIs were validated; this cannot happen
		http.Error(w, "bad redirect URI", http.StatusInternalServerError)
		return
	}
	q := u.Query()
	for k, vs := range params {
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// answerApp sends the browser back to the application that made the
// authorization request az, with params, the request's state and the
// issuer (RFC 9207): a client that talks to several authorization servers
// then knows which one answered, and a code sent back by another is not
// redeemed here (the mix-up attack).
func (s *server) answerApp(w http.ResponseWriter, r *http.Request, az core.Authorization, params url.Values) {
	if az.State != "" {
		params.Set("state", az.State)
	}
	params.Set("iss", s.issuer(r))
	redirectTo(w, r, az.RedirectURI, params)
}

// checkAuthorize validates the request; on an error it answers (a page
// for the user, or a redirect for the application) and returns false.
func (s *server) checkAuthorize(w http.ResponseWriter, r *http.Request, req core.AuthorizeRequest) (core.Authorization, bool) {
	az, err := s.svc.CheckAuthorize(r.Context(), req)
	if err == nil {
		return az, true
	}
	oe := core.AsOAuthError(err)
	if oe == nil {
		st, msg := s.pageError(w, r, err)
		s.errorPage(w, r, st, msg)
		return az, false
	}
	if !oe.Redirect {
		s.errorPage(w, r, http.StatusBadRequest, "The application sent an invalid authorization request: "+oe.Err.Reason+".")
		return az, false
	}
	s.answerApp(w, r, az, url.Values{"error": {oe.Code}, "error_description": {oe.Err.Reason}})
	return az, false
}

// scopeRow is one line of the consent page: a scope asked for, as a
// select named scope_<key> whose first option is what was asked for.
type scopeRow struct {
	Key, Label string
	Options    []scopeOption
}

type scopeOption struct {
	Value, Text string
	Selected    bool
}

type consentData struct {
	CSRF     string
	Username string
	Client   core.OAuthClient
	All      bool // the application asks for "*"
	// SignInOnly: the application asks only for identity scopes (OpenID
	// Connect), to sign the user in, not to act on the account.
	SignInOnly bool
	Scopes     []scopeRow
	// Action is where the form posts: /oauth/authorize, or the device
	// form (device.go) for a device's request.
	Action string
	Params map[string]string
	Error  string
}

// identityLabels word the identity scopes of OpenID Connect for the user.
var identityLabels = map[string]string{
	core.ScopeOpenID:        "know who you are (your user id)",
	core.ScopeProfile:       "see your username, name, language and time zone",
	core.ScopeEmail:         "see your email address",
	core.ScopeOfflineAccess: "keep its access after you sign out",
}

// consentRow words a line of the consent page for the user.
func consentRow(c core.ConsentScope, client core.OAuthClient) scopeRow {
	texts := map[string]string{core.ReadWrite: "read and write", core.ReadOnly: "read only", "": "none"}
	label := c.Category
	if c.Identity != "" {
		label = identityLabels[c.Identity]
		texts = map[string]string{core.ConsentAllow: "yes", "": "no"}
	} else if c.Category == "" {
		verb := "read"
		if c.Op == core.PreferencesWrite {
			verb = "write"
		}
		switch {
		case c.Every:
			label = verb + " preferences"
			texts = map[string]string{core.ConsentEvery: "of every application, and your personal ones",
				core.ConsentAllow: "of this application only", "": "none"}
		case c.Client == "" || c.Client == client.ID:
			label = verb + " this application's preferences"
		case c.Client == core.PersonalNamespace:
			label = verb + " your personal preferences (those of your personal access tokens)"
		default:
			label = verb + " the preferences of the application " + c.Client
		}
		if !c.Every {
			texts = map[string]string{core.ConsentAllow: "yes", "": "no"}
		}
	}
	row := scopeRow{Key: c.Key, Label: label, Options: []scopeOption{{Value: "", Text: texts[""]}}}
	choices := c.Choices()
	for i := len(choices) - 1; i >= 0; i-- { // lowest first; what was asked for is selected
		row.Options = append(row.Options, scopeOption{Value: choices[i], Text: texts[choices[i]], Selected: i == 0})
	}
	return row
}

func (s *server) consent(w http.ResponseWriter, r *http.Request, status int, a core.Actor, az core.Authorization, v url.Values, msg string) {
	params := map[string]string{}
	for k := range carried(v) {
		params[k] = v.Get(k)
	}
	s.consentPage(w, r, status, a, az, "/oauth/authorize", params, msg)
}

// consentPage renders the consent page of az, whose form posts params to
// action.
func (s *server) consentPage(w http.ResponseWriter, r *http.Request, status int, a core.Actor, az core.Authorization,
	action string, params map[string]string, msg string) {
	d := consentData{CSRF: s.csrfToken(w, r), Username: a.User.Username, Client: az.Client, All: az.Scopes == core.AllScopes,
		Action: action, Params: params, Error: msg}
	d.SignInOnly = az.Scopes != core.AllScopes
	for _, c := range core.ConsentScopes(az.Scopes) {
		d.Scopes = append(d.Scopes, consentRow(c, az.Client))
		d.SignInOnly = d.SignInOnly && c.Identity != ""
	}
	s.render(w, r, status, "consent", d)
}

// authorizePage is GET /oauth/authorize: sign in first if needed, then
// the consent page, unless the user's consent is known already
// (core.ConsentGiven: the platform's own console, or an application
// they authorized for these scopes before), when the code comes at once.
// OpenID Connect's prompt (Core 3.1.2.1) changes that: none shows no page
// at all, for a relying party checking in the background whether the
// user is still signed in: the code when the consent is known, else the
// error login_required or consent_required; login asks for the password
// again even of a signed-in user, as max_age does of one who typed it
// longer ago; consent asks for consent again. select_account is what the
// page always does.
func (s *server) authorizePage(w http.ResponseWriter, r *http.Request) {
	az, v, ok := s.readAuthorize(w, r, loginServerQuery(r.URL.Query()))
	if !ok {
		return
	}
	prompt := strings.Fields(v.Get("prompt"))
	none := slices.Contains(prompt, "none")
	fail := func(code, why string) { s.answerApp(w, r, az, url.Values{"error": {code}, "error_description": {why}}) }
	if none && len(prompt) > 1 {
		fail(core.OAuthInvalidRequest, "prompt=none may not be sent with another prompt")
		return
	}
	a, ok := s.session(r)
	login := slices.Contains(prompt, "login")
	switch {
	case none && (!ok || s.svc.SignInTooOld(a, az)):
		fail("login_required", "The user is not signed in, or signed in longer ago than max_age")
		return
	case !ok && (az.Pushed != "" || !login):
		signInFirstWith(w, r, r.URL.RequestURI(), az.WantsSecondFactor())
		return
	case !ok || s.svc.MustSignInAgain(a, az, login):
		s.signInAgain(w, r, az, v)
		return
	}
	// A client that requires a second factor the session lacks: type it,
	// in the same session, or learn how to turn one on.
	switch stepUp, err := s.svc.NeedsSecondFactor(a, az); {
	case (err != nil || stepUp) && none:
		fail("interaction_required", "This application requires a sign-in with a second factor")
		return
	case err != nil:
		st, msg := s.pageError(w, r, err)
		s.errorPage(w, r, st, msg)
		return
	case stepUp:
		confirmFirst(w, r, r.URL.RequestURI())
		return
	}
	known := false
	if !slices.Contains(prompt, "consent") {
		var err error
		if known, err = s.svc.ConsentGiven(r.Context(), a, az); err != nil {
			st, msg := s.pageError(w, r, err)
			s.errorPage(w, r, st, msg)
			return
		}
	}
	switch {
	case known:
		code, err := s.svc.Approve(r.Context(), a, az, az.Scopes)
		if err != nil {
			st, msg := s.pageError(w, r, err)
			s.errorPage(w, r, st, msg)
			return
		}
		s.answerApp(w, r, az, url.Values{"code": {code}})
	case none:
		fail("consent_required", "The user has not granted these scopes to this application")
	default:
		s.consent(w, r, http.StatusOK, a, az, v, "")
	}
}

// signInAgain signs the browser out and sends it to sign in, with the
// second factor if the client requires it, and back to this request.
// A pushed request comes back by its request_uri, and MustSignInAgain
// knows the sign-in is since it was pushed; the browser's comes back
// without what would ask again: the new sign-in is as fresh as can be.
func (s *server) signInAgain(w http.ResponseWriter, r *http.Request, az core.Authorization, v url.Values) {
	if !s.signOut(w, r) {
		return
	}
	back := carried(v)
	if az.Pushed == "" {
		v.Del("prompt")
		v.Del("max_age")
		back = v
	}
	signInFirstWith(w, r, "/oauth/authorize?"+back.Encode(), az.WantsSecondFactor())
}

// authorizeSubmit is the consent form: approve with the scopes the user
// left, or deny.
func (s *server) authorizeSubmit(w http.ResponseWriter, r *http.Request) {
	az, v, ok := s.readAuthorize(w, r, loginServerQuery(r.PostForm))
	if !ok {
		return
	}
	a, ok := s.session(r)
	if !ok {
		signInFirst(w, r, "/oauth/authorize?"+carried(v).Encode())
		return
	}
	switch v.Get("decision") {
	case "deny":
		s.answerApp(w, r, az, url.Values{"error": {core.OAuthAccessDenied}, "error_description": {"The user denied the request"}})
		return
	case "approve":
	default:
		s.consent(w, r, http.StatusBadRequest, a, az, v, "Choose Authorize or Deny.")
		return
	}
	scopes, err := core.GrantConsent(az.Scopes, func(key string) string { return v.Get("scope_" + key) })
	if err == nil {
		var code string
		if code, err = s.svc.Approve(r.Context(), a, az, scopes); err == nil {
			s.answerApp(w, r, az, url.Values{"code": {code}})
			return
		}
	}
	st, msg := s.pageError(w, r, err)
	s.consent(w, r, st, a, az, v, msg)
}

// tokenResponse is RFC 6749 5.1, with scopes beside scope: Cloud Manager
// reads scopes, as the Linode login server sends it.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
	Scopes       string `json:"scopes"`
	IDToken      string `json:"id_token,omitempty"` // OpenID Connect, when the scopes hold openid
}

// oauthErrorBody is RFC 6749 5.2.
type oauthErrorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func oauthFail(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, oauthErrorBody{Error: code, Description: desc})
}

// oauthCORS lets browser applications on any origin redeem a code and
// revoke a token: Cloud Manager does both with fetch from its own origin.
// No cookie is read at these endpoints (the client authenticates with its
// id, its secret or PKCE), so "*" opens nothing.
var oauthCORS = httpx.CORS{
	AllowOrigin:   "*",
	AllowHeaders:  "Authorization, Content-Type, Accept",
	AllowMethods:  "POST, OPTIONS",
	ExposeHeaders: "X-Request-Id, WWW-Authenticate",
	MaxAge:        600,
}

// openIDCORS lets any origin read the provider's metadata, its key set
// and userinfo, as a browser application signing its users in with
// OpenID Connect does: none of them reads a cookie.
var openIDCORS = httpx.CORS{
	AllowOrigin:   "*",
	AllowHeaders:  "Authorization, Content-Type, Accept",
	AllowMethods:  "GET, POST, OPTIONS",
	ExposeHeaders: "X-Request-Id, WWW-Authenticate",
	MaxAge:        600,
}

// browserRead wraps an endpoint of openIDCORS.
func browserRead(h http.HandlerFunc) http.HandlerFunc { return openIDCORS.Wrap(h).ServeHTTP }

// browserFacing wraps an endpoint that browser consoles call across
// origins: policy on every answer, preflights answered, and a plain
// OPTIONS answered with the methods allowed.
func browserFacing(policy httpx.CORS, h http.HandlerFunc) http.HandlerFunc {
	wrapped := policy.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			w.Header().Set("Allow", "OPTIONS, POST")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h(w, r)
	}))
	return wrapped.ServeHTTP
}

// clientForm reads the form of a token or revocation request, url-encoded
// or multipart/form-data (Cloud Manager posts a FormData), and the
// client's credentials: HTTP Basic (client_id:client_secret, form-encoded,
// RFC 6749 2.3.1), or client_id and client_secret in the form; public
// clients send client_id alone. On a malformed request it answers and
// returns ok false. A client with keys sends a client_assertion
// (private_key_jwt, core/clientkeys.go) instead of a secret; its aud may
// name the issuer, this endpoint or the token endpoint (RFC 7523 3,
// RFC 9126 2).
func (s *server) clientForm(w http.ResponseWriter, r *http.Request) (f url.Values, auth core.ClientAuth, ok bool) {
	maxBytes := s.opts.MaxBodyBytes
	w.Header().Set("Pragma", "no-cache")
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case err == nil && mt == "application/x-www-form-urlencoded":
		err = r.ParseForm()
	case err == nil && mt == "multipart/form-data":
		// The body is already bounded by the face's limit, so the form
		// stays in memory; files are not part of any OAuth request.
		err = r.ParseMultipartForm(maxBytes)
		if r.MultipartForm != nil {
			defer r.MultipartForm.RemoveAll()
			if err == nil && len(r.MultipartForm.File) > 0 {
				oauthFail(w, http.StatusBadRequest, core.OAuthInvalidRequest, "the form may not carry files")
				return nil, core.ClientAuth{}, false
			}
		}
	default:
		oauthFail(w, http.StatusBadRequest, core.OAuthInvalidRequest, "Content-Type must be application/x-www-form-urlencoded or multipart/form-data")
		return nil, core.ClientAuth{}, false
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		oauthFail(w, http.StatusRequestEntityTooLarge, core.OAuthInvalidRequest, fmt.Sprintf("the request body must be at most %d bytes", tooBig.Limit))
		return nil, core.ClientAuth{}, false
	}
	if err != nil {
		oauthFail(w, http.StatusBadRequest, core.OAuthInvalidRequest, "the request body is not a valid form")
		return nil, core.ClientAuth{}, false
	}
	f = r.PostForm
	for k, vs := range f {
		if len(vs) > 1 {
			oauthFail(w, http.StatusBadRequest, core.OAuthInvalidRequest, k+" may be sent only once")
			return nil, core.ClientAuth{}, false
		}
	}
	id, secret := f.Get("client_id"), f.Get("client_secret")
	if bid, bsecret, basic := r.BasicAuth(); basic {
		var err1, err2 error
		bid, err1 = url.QueryUnescape(bid)
		bsecret, err2 = url.QueryUnescape(bsecret)
		if err1 != nil || err2 != nil || (id != "" && id != bid) || secret != "" {
			oauthFail(w, http.StatusBadRequest, core.OAuthInvalidRequest, "send the client's credentials once: in the Authorization header or in the form")
			return nil, core.ClientAuth{}, false
		}
		id, secret = bid, bsecret
	}
	auth = core.ClientAuth{ClientID: id, ClientSecret: secret}
	if f.Has("client_assertion") || f.Has("client_assertion_type") {
		if f.Get("client_assertion_type") != core.ClientAssertionType || f.Get("client_assertion") == "" {
			oauthFail(w, http.StatusBadRequest, core.OAuthInvalidRequest, "client_assertion_type must be "+core.ClientAssertionType+", with a client_assertion")
			return nil, core.ClientAuth{}, false
		}
		iss := s.issuer(r)
		auth.Assertion = f.Get("client_assertion")
		auth.Audiences = []string{iss, iss + r.URL.Path, iss + "/oauth/token"}
	}
	return f, auth, true
}

// oauthError answers an error of the token or revocation endpoint.
func (s *server) oauthError(w http.ResponseWriter, r *http.Request, err error) {
	err = httpx.Domain(r, err)
	oe := core.AsOAuthError(err)
	if oe == nil {
		if e := core.AsError(err); e != nil {
			oauthFail(w, status(w, e), core.OAuthInvalidRequest, e.Reason)
			return
		}
		oauthFail(w, http.StatusInternalServerError, "server_error", s.internal(r, err))
		return
	}
	st := http.StatusBadRequest
	if oe.Code == core.OAuthInvalidClient {
		st = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", `Basic realm="profiled"`)
	}
	oauthFail(w, st, oe.Code, oe.Err.Reason)
}

// clientJSON serves an endpoint that takes a client's form (clientForm)
// and answers JSON: do returns the status and the value, or an error,
// which is answered in the form of RFC 6749.
func (s *server) clientJSON(do func(r *http.Request, f url.Values, auth core.ClientAuth) (int, any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, auth, ok := s.clientForm(w, r)
		if !ok {
			return
		}
		status, v, err := do(r, f, auth)
		if err != nil {
			s.oauthError(w, r, err)
			return
		}
		writeJSON(w, status, v)
	}
}

// token is POST /oauth/token (RFC 6749 4.1.3, 6). Parameters it does not
// know, such as the state Cloud Manager sends, are ignored (RFC 6749 3.2).
// A request with a code and no grant_type redeems the code, as the Linode
// login server takes it: linode_api4's LinodeLoginClient.finish_oauth
// sends only code, client_id and client_secret.
func (s *server) token(r *http.Request, f url.Values, auth core.ClientAuth) (int, any, error) {
	grantType := f.Get("grant_type")
	if grantType == "" && f.Get("code") != "" {
		grantType = "authorization_code"
	}
	in := core.TokenRequest{GrantType: grantType, ClientID: auth.ClientID, ClientSecret: auth.ClientSecret,
		ClientAssertion: auth.Assertion, Audiences: auth.Audiences,
		Code: f.Get("code"), RedirectURI: f.Get("redirect_uri"), CodeVerifier: f.Get("code_verifier"),
		RefreshToken: f.Get("refresh_token"), DeviceCode: f.Get("device_code"), Scope: f.Get("scope"), Issuer: s.issuer(r),
		Resource: resourceParam(f)}
	g, err := s.svc.OAuthToken(r.Context(), in)
	if err != nil {
		return 0, nil, err
	}
	resp := tokenResponse{AccessToken: g.AccessToken, TokenType: "bearer",
		ExpiresIn: int(g.ExpiresIn.Seconds()), RefreshToken: g.RefreshToken, Scope: string(g.Scopes), Scopes: string(g.Scopes)}
	if g.ID != nil {
		if resp.IDToken, err = signIDToken(s.issuer(r), g.ID); err != nil {
			return 0, nil, err // a server_error, logged
		}
	}
	return http.StatusOK, resp, nil
}

// revoke is POST /oauth/revoke (RFC 7009): 200 with an empty body for any
// token, known or not; the client must authenticate as for the token
// endpoint. Cloud Manager calls it when the user signs out.
func (s *server) revoke(w http.ResponseWriter, r *http.Request) {
	f, auth, ok := s.clientForm(w, r)
	if !ok {
		return
	}
	if err := s.svc.RevokeOAuthToken(r.Context(), auth, f.Get("token")); err != nil {
		s.oauthError(w, r, err)
		return
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}
