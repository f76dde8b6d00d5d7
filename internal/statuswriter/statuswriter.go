// Package statuswriter remembers the status an HTTP handler answered, for the API's audit log
// and the conductor's request log.
package statuswriter

import "net/http"

// Writer wraps a ResponseWriter and records the first status written (200 when the handler
// writes a body without one). Status is 0 while nothing was written.
type Writer struct {
	http.ResponseWriter
	Status int
}

// WriteHeader records code and passes it on.
func (w *Writer) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records 200 when no status was written yet.
func (w *Writer) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming handlers (backups) flush through the wrapper.
func (w *Writer) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer (the change stream sets
// its write deadline through it).
func (w *Writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
