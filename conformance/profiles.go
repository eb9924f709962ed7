package conformance

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed profiles/*.profile
var builtinProfiles embed.FS

// BuiltinProfiles lists the names of the embedded broker profiles
// (conformance/profiles/NAME.profile), sorted.
func BuiltinProfiles() []string {
	files, _ := fs.Glob(builtinProfiles, "profiles/*.profile")
	names := make([]string, 0, len(files))
	for _, f := range files {
		names = append(names, strings.TrimSuffix(path.Base(f), ".profile"))
	}
	sort.Strings(names)
	return names
}

// BuiltinProfile parses the embedded profile called name.
func BuiltinProfile(name string) (*Profile, error) {
	b, err := builtinProfiles.ReadFile("profiles/" + name + ".profile")
	if err != nil {
		return nil, fmt.Errorf("no built-in profile %q (built in: %s)", name, strings.Join(BuiltinProfiles(), ", "))
	}
	return ParseProfile("builtin:profiles/"+name+".profile", string(b))
}

// OpenProfile reads the profile file at arg or, when no such file exists and
// arg is a plain name, the built-in profile of that name (--profile mosquitto).
func OpenProfile(arg string) (*Profile, error) {
	p, err := LoadProfile(arg)
	if err == nil || !errors.Is(err, fs.ErrNotExist) || strings.ContainsAny(arg, `/\.`) {
		return p, err
	}
	return BuiltinProfile(arg)
}

// StaleSkips returns the skip patterns of p that match none of ids: a skip
// that outlived the case it was written for only misleads its reader.
func (p *Profile) StaleSkips(ids []string) []string {
	var stale []string
	for _, s := range p.Skips {
		used := false
		for _, id := range ids {
			if s.re.MatchString(id) {
				used = true
				break
			}
		}
		if !used {
			stale = append(stale, s.re.String())
		}
	}
	return stale
}
