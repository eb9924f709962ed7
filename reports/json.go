package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"mqttspec/conformance"
)

// WriteJSON writes the run in the schema of docs/report-schema.md.
func WriteJSON(w io.Writer, run *conformance.Run) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(run)
}

// ReadJSON reads a run written by WriteJSON, refusing other schema versions.
func ReadJSON(r io.Reader) (*conformance.Run, error) {
	var run conformance.Run
	dec := json.NewDecoder(r)
	if err := dec.Decode(&run); err != nil {
		return nil, err
	}
	if run.Schema != conformance.SchemaVersion {
		return nil, fmt.Errorf("schema version %d, this mqttspec reads %d", run.Schema, conformance.SchemaVersion)
	}
	return &run, nil
}

// LoadJSON reads a run from a file; errors name the file.
func LoadJSON(path string) (*conformance.Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	run, err := ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return run, nil
}

// WriteFile writes through a temporary file and renames it, so a failure
// never leaves a half-written report where a good one was.
func WriteFile(path string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}
