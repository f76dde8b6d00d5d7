package cellurl

import "strings"

// maskedPassword replaces each password shown by Mask.
const maskedPassword = "****"

// Mask hides the password(s) of a URL for display, e.g.
// "rabbit://u:****@h:5672/". Unlike Nova's greedy regex it masks each
// password of a multi-host netloc correctly: "rabbit://u1:p1@h1,u2:p2@h2/"
// -> "rabbit://u1:****@h1,u2:****@h2/". A netloc with no ':' before an '@'
// is unchanged; a URL without credentials is unchanged; a string that is not
// a URL is returned unchanged.
//
// The netloc is located as Python's urlsplit locates it (after "scheme:" and
// "//", up to the first '/', '?' or '#'); everything outside it is returned
// byte for byte. Within a host piece the userinfo runs up to the piece's last
// '@' and the password from the userinfo's first ':'.
func Mask(rawURL string) string {
	start, end, ok := netlocSpan(rawURL)
	if !ok {
		return rawURL
	}
	pieces := strings.Split(rawURL[start:end], ",")
	for i, p := range pieces {
		pieces[i] = maskPiece(p)
	}
	return rawURL[:start] + strings.Join(pieces, ",") + rawURL[end:]
}

// netlocSpan returns the byte offsets of the netloc of s, or ok=false when s
// has no "//" authority part.
func netlocSpan(s string) (start, end int, ok bool) {
	trimmed := strings.TrimLeft(s, c0ControlOrSpace)
	offset := len(s) - len(trimmed)
	_, rest, _ := splitScheme(trimmed)
	if !strings.HasPrefix(rest, "//") {
		return 0, 0, false
	}
	start = offset + (len(trimmed) - len(rest)) + 2
	end = start + netlocEnd(s[start:])
	return start, end, true
}

// maskPiece masks the password of one "user:pass@host" netloc piece.
func maskPiece(piece string) string {
	at := strings.LastIndexByte(piece, '@')
	if at < 0 {
		return piece
	}
	colon := strings.IndexByte(piece[:at], ':')
	if colon < 0 {
		return piece
	}
	return piece[:colon+1] + maskedPassword + piece[at:]
}
