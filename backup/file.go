package backup

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFile writes the backup that fill produces to path. The bytes go to path.tmp and, as
// they are written, through [Extract] (the state is extracted next to path and verified);
// only a backup that verifies is fsynced and renamed to path, and the directory fsynced. On
// any failure path.tmp is removed and path is left as it was. fill's error, when it has one,
// is returned.
func WriteFile(path string, fill func(w io.Writer) error) (*Info, error) {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	info, err := writeVerified(f, filepath.Dir(path), fill)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("backup: write %s: %w", path, err)
	}
	return info, nil
}

// writeVerified runs fill into f and, at the same time, into Extract.
func writeVerified(f *os.File, dir string, fill func(w io.Writer) error) (*Info, error) {
	pr, pw := io.Pipe()
	filled := make(chan error, 1)
	go func() {
		err := fill(pw)
		pw.CloseWithError(err)
		filled <- err
	}()
	ex, err := Extract(io.TeeReader(pr, f), dir)
	// Unblock fill if Extract stopped early (a refused backup), then wait for it.
	pr.CloseWithError(errStopped)
	if ferr := <-filled; ferr != nil && !errors.Is(ferr, errStopped) {
		return nil, ferr
	}
	if err != nil {
		return nil, err
	}
	ex.Remove()
	return &ex.Info, nil
}

// errStopped is what fill's writes return once verification has stopped reading.
var errStopped = errors.New("backup: verification stopped reading")

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
