package cellurl

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// c0ControlOrSpace is the set Python's urlsplit strips from the left of a URL.
const c0ControlOrSpace = "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r" +
	"\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "

// unsafeURLBytes removes the bytes Python's urlsplit deletes anywhere in a URL.
var unsafeURLBytes = strings.NewReplacer("\t", "", "\r", "", "\n", "")

// usesParams lists the schemes for which Python's urlparse splits ";params"
// off the last path segment.
var usesParams = map[string]bool{
	"": true, "ftp": true, "hdl": true, "prospero": true, "http": true,
	"imap": true, "https": true, "shttp": true, "rtsp": true, "rtsps": true,
	"rtspu": true, "sip": true, "sips": true, "mms": true, "sftp": true,
	"tel": true,
}

// maxIntDigits is CPython's default limit on the digits int() converts.
const maxIntDigits = 4300

// optional is a string that Python could hold as None.
type optional struct {
	val   string
	valid bool
}

// some wraps a present value.
func some(s string) optional { return optional{val: s, valid: true} }

// String renders the value as str.format does: None becomes "None".
func (o optional) String() string {
	if !o.valid {
		return "None"
	}
	return o.val
}

// pyURL holds the components of a URL as Python's urllib.parse.urlparse
// returns them (params are split off and dropped).
type pyURL struct {
	scheme, netloc, path, query, fragment string
}

// splitScheme splits "scheme:rest" the way urlsplit does: the scheme must
// start with an ASCII letter and consist of letters, digits, '+', '-', '.'.
// It returns ok=false (and s unchanged) when there is no scheme.
func splitScheme(s string) (scheme, rest string, ok bool) {
	i := strings.IndexByte(s, ':')
	if i <= 0 || !isASCIILetter(s[0]) {
		return "", s, false
	}
	for j := 0; j < i; j++ {
		c := s[j]
		if !isASCIILetter(c) && !isASCIIDigit(c) && c != '+' && c != '-' && c != '.' {
			return "", s, false
		}
	}
	return s[:i], s[i+1:], true
}

// netlocEnd returns the index in s of the first '/', '?' or '#', or len(s).
func netlocEnd(s string) int {
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		return i
	}
	return len(s)
}

// urlParse splits raw like Python's urllib.parse.urlparse, including its
// validation of bracketed hosts (the only way urlparse itself fails).
func urlParse(raw string) (pyURL, error) {
	s := unsafeURLBytes.Replace(strings.TrimLeft(raw, c0ControlOrSpace))
	var u pyURL
	if scheme, rest, ok := splitScheme(s); ok {
		u.scheme, s = strings.ToLower(scheme), rest
	}
	if strings.HasPrefix(s, "//") {
		end := 2 + netlocEnd(s[2:])
		u.netloc, s = s[2:end], s[end:]
		if err := checkNetlocBrackets(u.netloc); err != nil {
			return pyURL{}, err
		}
	}
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s, u.fragment = s[:i], s[i+1:]
	}
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s, u.query = s[:i], s[i+1:]
	}
	u.path = s
	if usesParams[u.scheme] {
		u.path = stripParams(s)
	}
	return u, nil
}

// stripParams removes ";params" from the last path segment, as urlparse does.
func stripParams(path string) string {
	start := 0
	if slash := strings.LastIndexByte(path, '/'); slash >= 0 {
		start = slash
	}
	if i := strings.IndexByte(path[start:], ';'); i >= 0 {
		return path[:start+i]
	}
	return path
}

// checkNetlocBrackets mirrors urlsplit's IPv6 checks: brackets must come in
// pairs, and the text inside the first pair must be an IPv6 address or an
// IPvFuture literal.
func checkNetlocBrackets(netloc string) error {
	hasOpen := strings.Contains(netloc, "[")
	hasClose := strings.Contains(netloc, "]")
	if hasOpen != hasClose {
		return errors.New("invalid IPv6 URL: unbalanced brackets")
	}
	if !hasOpen {
		return nil
	}
	_, after, _ := strings.Cut(netloc, "[")
	host, _, _ := strings.Cut(after, "]")
	return checkBracketedHost(host)
}

// checkBracketedHost validates a bracketed host like Python's
// _check_bracketed_host: "v<hex>.<anything>" or an IPv6 address.
func checkBracketedHost(host string) error {
	if strings.HasPrefix(host, "v") {
		hex, rest, found := strings.Cut(host[1:], ".")
		if !found || hex == "" || rest == "" || strings.Trim(hex, "0123456789abcdefABCDEF") != "" {
			return fmt.Errorf("invalid IPvFuture address %q", host)
		}
		return nil
	}
	if _, zone, found := strings.Cut(host, "%"); found && (zone == "" || strings.Contains(zone, "%")) {
		return fmt.Errorf("invalid IPv6 scope in %q", host)
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || addr.Is4() {
		return fmt.Errorf("%q is not a valid IPv6 address", host)
	}
	return nil
}

// credentials returns urlparse's username and password: the userinfo is
// everything before the last '@', split at its first ':'.
func (u pyURL) credentials() (username, password optional) {
	at := strings.LastIndexByte(u.netloc, '@')
	if at < 0 {
		return optional{}, optional{}
	}
	name, pass, found := strings.Cut(u.netloc[:at], ":")
	if !found {
		return some(name), optional{}
	}
	return some(name), some(pass)
}

// hostinfo returns urlparse's raw host and port text from after the last
// '@'. Text before a '[' is ignored; without brackets the host ends at the
// first ':'. An empty port is None.
func (u pyURL) hostinfo() (host string, port optional) {
	info := u.netloc[strings.LastIndexByte(u.netloc, '@')+1:]
	var portText string
	if _, bracketed, found := strings.Cut(info, "["); found {
		var rest string
		host, rest, _ = strings.Cut(bracketed, "]")
		_, portText, _ = strings.Cut(rest, ":")
	} else {
		host, portText, _ = strings.Cut(info, ":")
	}
	if portText == "" {
		return host, optional{}
	}
	return host, some(portText)
}

// hostname returns urlparse's hostname: None when empty, lower-cased except
// for an IPv6 zone after '%'.
func (u pyURL) hostname() optional {
	host, _ := u.hostinfo()
	if host == "" {
		return optional{}
	}
	addr, zone, found := strings.Cut(host, "%")
	if found {
		return some(pyLower(addr) + "%" + zone)
	}
	return some(pyLower(addr))
}

// port returns urlparse's port: None when absent, otherwise the decimal
// value, which must be ASCII digits in the range 0-65535.
func (u pyURL) port() (optional, error) {
	_, text := u.hostinfo()
	if !text.valid {
		return optional{}, nil
	}
	for i := 0; i < len(text.val); i++ {
		if !isASCIIDigit(text.val[i]) {
			return optional{}, fmt.Errorf("port could not be cast to integer value as %q", text.val)
		}
	}
	if len(text.val) > maxIntDigits {
		return optional{}, fmt.Errorf("port %q exceeds the integer digit limit", text.val)
	}
	n := strings.TrimLeft(text.val, "0")
	if len(n) > 5 || (len(n) == 5 && n > "65535") {
		return optional{}, fmt.Errorf("port %q out of range 0-65535", text.val)
	}
	if n == "" {
		n = "0"
	}
	return some(n), nil
}

// hostParts are the values Nova's _parse_netloc extracts from one piece of a
// multi-host netloc.
type hostParts struct {
	username, password, hostname, port optional
}

// parseNetloc splits one "user:pass@host:port" piece of a multi-host netloc:
// at the first '@' (no '@' means an empty userpass), the host part with
// parseHostPort, and the userpass at its first ':'.
func parseNetloc(piece string) (hostParts, error) {
	userpass, hostport, found := strings.Cut(piece, "@")
	if !found {
		userpass, hostport = "", piece
	}
	var p hostParts
	var err error
	if p.hostname, p.port, err = parseHostPort(hostport); err != nil {
		return hostParts{}, err
	}
	name, pass, found := strings.Cut(userpass, ":")
	p.username = some(name)
	if found {
		p.password = some(pass)
	}
	return p, nil
}

// parseHostPort mirrors oslo.utils netutils.parse_host_port with no default
// port: "" gives (None, None); "[v6]..." takes the text up to the only ']'
// and the port after the first ':' that follows; otherwise a single ':'
// separates host and port and any other count of ':' means no port.
func parseHostPort(addr string) (host, port optional, err error) {
	if addr == "" {
		return optional{}, optional{}, nil
	}
	var portText string
	switch {
	case addr[0] == '[':
		parts := strings.Split(addr[1:], "]")
		if len(parts) != 2 {
			return optional{}, optional{}, fmt.Errorf("malformed bracketed host %q", addr)
		}
		host = some(parts[0])
		if !strings.Contains(parts[1], ":") {
			return host, optional{}, nil
		}
		portText = strings.Split(parts[1], ":")[1]
	case strings.Count(addr, ":") == 1:
		var h string
		h, portText, _ = strings.Cut(addr, ":")
		host = some(h)
	default:
		return some(addr), optional{}, nil
	}
	n, err := pyInt(portText)
	if err != nil {
		return optional{}, optional{}, fmt.Errorf("invalid port in %q: %w", addr, err)
	}
	return host, some(n), nil
}

// pyInt converts s like Python's int(s) and returns the value's canonical
// decimal form. It accepts surrounding whitespace, a sign, Unicode decimal
// digits and single underscores between digits.
func pyInt(s string) (string, error) {
	t := strings.TrimFunc(s, isPySpace)
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg, t = t[0] == '-', t[1:]
	}
	digits := make([]byte, 0, len(t))
	afterDigit := false
	for _, r := range t {
		if r == '_' && afterDigit {
			afterDigit = false
			continue
		}
		d, ok := decimalValue(r)
		if !ok {
			return "", fmt.Errorf("invalid literal for int() with base 10: %q", s)
		}
		digits = append(digits, '0'+d)
		afterDigit = true
	}
	if !afterDigit {
		return "", fmt.Errorf("invalid literal for int() with base 10: %q", s)
	}
	if len(digits) > maxIntDigits {
		return "", fmt.Errorf("integer string %q exceeds the %d digit limit", s, maxIntDigits)
	}
	n := strings.TrimLeft(string(digits), "0")
	switch {
	case n == "":
		return "0", nil
	case neg:
		return "-" + n, nil
	}
	return n, nil
}

// decimalValue returns the value of a Unicode decimal digit (category Nd).
// Nd characters come in contiguous runs of whole 0-9 sequences, so the value
// is the distance from the start of the run, modulo 10.
func decimalValue(r rune) (byte, bool) {
	if r >= '0' && r <= '9' {
		return byte(r - '0'), true
	}
	if r < 0x80 || !unicode.IsDigit(r) {
		return 0, false
	}
	start := r
	for unicode.IsDigit(start - 1) {
		start--
	}
	return byte((r - start) % 10), true
}

// isPySpace reports whether Python's str.isspace treats r as whitespace.
func isPySpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// pyLower lower-cases s like Python's str.lower, including the full mapping
// of U+0130 but not the final-sigma rule. Invalid UTF-8 bytes are kept.
func pyLower(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteByte(s[i])
		case r == '\u0130':
			b.WriteString("i\u0307")
		default:
			b.WriteRune(unicode.ToLower(r))
		}
		i += size
	}
	return b.String()
}

// isASCIILetter reports whether c is an ASCII letter.
func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// isASCIIDigit reports whether c is an ASCII digit.
func isASCIIDigit(c byte) bool { return c >= '0' && c <= '9' }
