package fuzz

import (
	"context"
	"time"
)

// Repro replays a saved finding against the broker that o describes
// (Target or Dial, and Exec to start it) and reports whether the finding
// still happens, with what was seen.
func Repro(ctx context.Context, fd *Finding, o Options) (bool, string, error) {
	if fd.Kind == Divergence {
		o.Oracle = "reference"
	}
	o.Seeds = nil
	f, err := New(o)
	if err != nil {
		return false, "", err
	}
	cleanup, err := f.setup(ctx)
	if err != nil {
		return false, "", err
	}
	defer cleanup()
	f.start = time.Now()
	sessions := [][]string{fd.Session}
	if !fd.Reproduced {
		sessions = fd.Candidates
	}
	for i, hs := range sessions {
		s, err := (&Finding{ID: fd.ID, Session: hs}).session()
		if err != nil {
			return false, "", err
		}
		switch fd.Kind {
		case Crash, Hang:
			if _, ok := f.downRun(ctx, fd.Kind, s); ok {
				st, se := f.exitInfo()
				return true, "the broker " + map[Kind]string{Crash: refused.String(), Hang: silent.String()}[fd.Kind] +
					" after the session " + st + "\n" + se, nil
			}
			if f.infraErr != nil {
				return false, "", f.infraErr
			}
		default:
			r := f.again(ctx, s, 0, fd.Kind == Divergence)
			if r.x.dialErr != nil {
				return false, "", r.x.dialErr
			}
			if r.v != nil && r.v.signature() == fd.Signature {
				return true, r.v.detail, nil
			}
			what := "the broker handled the session correctly"
			if r.v != nil {
				what = "something else happened: " + r.v.detail
			}
			if i == len(sessions)-1 {
				return false, what, nil
			}
		}
	}
	return false, "the broker stayed up", nil
}
