package broker

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"mqttspec/codec"
)

// ACL is an Authorizer read from a rule file. Each rule line is
//
//	USER ACCESS FILTER
//
// USER is a user name or * (every client, anonymous ones included); ACCESS is read (subscribe),
// write (publish) or readwrite; FILTER is an MQTT topic filter. Blank lines and lines starting
// with # are ignored. A client may publish to a topic some write rule of its user or of *
// matches, and subscribe to a filter whose every topic some read rule matches (the share
// prefix of a shared subscription is ignored). As in subscriptions, a rule starting with a
// wildcard does not match topics starting with $. Whatever no rule grants is refused.
type ACL struct {
	rules map[string][]aclRule // by user name, "*" for everyone
}

type aclRule struct {
	read, write bool
	filter      []string // levels
}

// LoadACL reads an ACL file.
func LoadACL(path string) (*ACL, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseACL(f, path)
}

// ParseACL reads ACL rules from r; name is the file name errors are reported with.
func ParseACL(r io.Reader, name string) (*ACL, error) {
	a := &ACL{rules: map[string][]aclRule{}}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) != 3 {
			return nil, fmt.Errorf("%s:%d: want USER ACCESS FILTER, got %d fields", name, line, len(fields))
		}
		var rule aclRule
		switch fields[1] {
		case "read":
			rule.read = true
		case "write":
			rule.write = true
		case "readwrite":
			rule.read, rule.write = true, true
		default:
			return nil, fmt.Errorf("%s:%d: access %q is not read, write or readwrite", name, line, fields[1])
		}
		if err := codec.CheckTopicFilter([]byte(fields[2]), codec.V5); err != nil {
			return nil, fmt.Errorf("%s:%d: topic filter %q: %v", name, line, fields[2], err)
		}
		rule.filter = strings.Split(fields[2], "/")
		a.rules[fields[0]] = append(a.rules[fields[0]], rule)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return a, nil
}

// CanPublish implements Authorizer.
func (a *ACL) CanPublish(c Client, topic string) bool {
	return a.grants(c, strings.Split(topic, "/"), false)
}

// CanSubscribe implements Authorizer.
func (a *ACL) CanSubscribe(c Client, filter string) bool {
	_, path := splitShared(filter)
	return a.grants(c, strings.Split(path, "/"), true)
}

func (a *ACL) grants(c Client, levels []string, read bool) bool {
	for _, user := range []string{c.Username, "*"} {
		for _, r := range a.rules[user] {
			if (read && r.read || !read && r.write) && covers(r.filter, levels) {
				return true
			}
		}
	}
	return false
}

// covers reports whether every topic the filter f matches is matched by the rule filter r (a
// topic is a filter without wildcards). A '+' in f is covered only by '+' or '#' in r, a '#'
// in f only by '#' in r.
func covers(r, f []string) bool {
	for i, level := range r {
		dollar := i == 0 && len(f) > 0 && strings.HasPrefix(f[0], "$")
		if level == "#" {
			return !dollar
		}
		if i >= len(f) {
			return false
		}
		switch {
		case level == "+":
			if f[i] == "#" || dollar {
				return false
			}
		case level != f[i]:
			return false
		}
	}
	return len(r) == len(f)
}
