package jsonbody

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	type body struct {
		Name string `json:"name"`
	}
	tests := []struct {
		name, in string
		want     string // "" ok, "large" MaxBytesError, else the *Error text
	}{
		{"ok", `{"name":"x"}`, ""},
		{"invalid UTF-8", "{\"name\":\"x\xff\"}", "request body is not valid UTF-8"},
		{"ok with trailing space", "{\"name\":\"x\"}\n ", ""},
		{"empty", ``, "request body is empty, want a JSON object"},
		{"unknown field", `{"nom":"x"}`, `bad JSON body: json: unknown field "nom"`},
		{"two objects", `{"name":"x"}{"name":"y"}`, "bad JSON body: data after the object"},
		{"not an object", `[1]`, "bad JSON body: json: cannot unmarshal array into Go value of type jsonbody.body"},
		{"too large", `{"name":"` + strings.Repeat("x", 100) + `"}`, "large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.in))
			var b body
			err := Decode(httptest.NewRecorder(), r, 64, &b)
			var je *Error
			var mbe *http.MaxBytesError
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tc.want == "large" && !errors.As(err, &mbe):
				t.Fatalf("got %v, want *http.MaxBytesError", err)
			case tc.want != "" && tc.want != "large" && (!errors.As(err, &je) || je.Msg != tc.want):
				t.Fatalf("got %v, want *Error %q", err, tc.want)
			}
		})
	}
}
