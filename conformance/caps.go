package conformance

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"mqttspec/codec"
)

// Capabilities are what the broker supports, as probed and as a profile
// corrects: "v5.0"="yes", "maximum-qos"="1", "retain"="no", ...
type Capabilities map[string]string

// KnownCapabilities are the names a case may `require`.
var KnownCapabilities = map[string]string{
	"qos1":                "the broker grants QoS 1",
	"qos2":                "the broker grants QoS 2",
	"publish-qos1":        "the broker accepts QoS 1 PUBLISH from clients (always in 3.1.1; 5.0: Maximum QoS)",
	"publish-qos2":        "the broker accepts QoS 2 PUBLISH from clients (always in 3.1.1; 5.0: Maximum QoS)",
	"retain":              "the broker supports retained messages",
	"wildcard-sub":        "the broker supports wildcard subscriptions",
	"shared-sub":          "the broker supports shared subscriptions (5.0)",
	"subscription-id":     "the broker supports subscription identifiers (5.0)",
	"topic-alias":         "the broker accepts topic aliases from clients (5.0 Topic Alias Maximum > 0)",
	"v3.1":                "the broker accepts MQTT 3.1 (MQIsdp) connections",
	"denied-topic":        "the profile names a topic the test user may not subscribe to (var denied-topic)",
	"receive-maximum":     "the broker announces a Receive Maximum (5.0 CONNACK)",
	"maximum-packet-size": "the broker announces a Maximum Packet Size (5.0 CONNACK)",
	"client-keepalive":    "the broker keeps the client's Keep Alive (no 5.0 Server Keep Alive)",
	"auth-method":         "the profile names a 5.0 enhanced authentication method the broker supports (var auth-method, var auth-secret)",
	"websocket":           "the target is reached over WebSocket (ws:// or wss://)",
	"empty-client-id":     "the broker accepts a zero-length client identifier with a clean start (probed)",
}

// numericCaps may be compared in a requirement (require topic-alias-maximum<65535);
// the value is the protocol default when the broker announces none.
var numericCaps = map[string]int{"maximum-qos": 2, "topic-alias-maximum": 0, "receive-maximum": 65535,
	"maximum-packet-size": 268435460, "server-keep-alive": 0}

// requirement splits "!name", "name", "name<N", "name>=N", ... into parts.
func requirement(req string) (name string, neg bool, op string, n int, err error) {
	name, neg = strings.CutPrefix(req, "!")
	for _, o := range []string{"<=", ">=", "!=", "<", ">", "="} {
		if i := strings.Index(name, o); i > 0 {
			v, convErr := strconv.Atoi(name[i+len(o):])
			if convErr != nil || neg {
				return "", false, "", 0, fmt.Errorf("requirement %q: want name%sNUMBER", req, o)
			}
			if _, ok := numericCaps[name[:i]]; !ok {
				return "", false, "", 0, fmt.Errorf("requirement %q: %s is not a numeric capability", req, name[:i])
			}
			return name[:i], false, o, v, nil
		}
	}
	if _, ok := KnownCapabilities[name]; !ok {
		return "", false, "", 0, fmt.Errorf("unknown capability %q", name)
	}
	return name, neg, "", 0, nil
}

// Satisfies evaluates one `require` entry for version v.
func (c Capabilities) Satisfies(req string, v codec.Version) (bool, string) {
	name, neg, op, n, err := requirement(req)
	if err != nil {
		return false, err.Error()
	}
	if op != "" {
		val := c.num(name, numericCaps[name])
		ok := map[string]bool{"<": val < n, "<=": val <= n, ">": val > n, ">=": val >= n, "=": val == n, "!=": val != n}[op]
		if !ok {
			return false, fmt.Sprintf("needs %s%s%d; the broker has %s=%d", name, op, n, name, val)
		}
		return true, ""
	}
	ok, why := c.has(name, v)
	if neg {
		if ok {
			return false, "needs a broker without this capability: " + KnownCapabilities[name]
		}
		return true, ""
	}
	return ok, why
}

func (c Capabilities) speaks(v codec.Version) bool {
	s, ok := c["v"+v.String()]
	return !ok || s == "yes"
}

func (c Capabilities) yes(k string) bool {
	s, ok := c[k]
	return !ok || s == "yes"
}

func (c Capabilities) num(k string, def int) int {
	if n, err := strconv.Atoi(c[k]); err == nil {
		return n
	}
	return def
}

// has reports whether capability name holds for version v, and why not.
func (c Capabilities) has(name string, v codec.Version) (bool, string) {
	switch name {
	case "publish-qos1", "publish-qos2":
		// A 3.1.1 server has no way to refuse an inbound QoS: only 5.0
		// announces a Maximum QoS that binds the client.
		if v == codec.V5 && c.num("maximum-qos", 2) < int(name[len(name)-1]-'0') {
			return false, fmt.Sprintf("the broker's maximum QoS is %s", c["maximum-qos"])
		}
	case "qos1", "qos2":
		want := int(name[3] - '0')
		if c.num("maximum-qos", 2) < want {
			return false, fmt.Sprintf("the broker's maximum QoS is %s", c["maximum-qos"])
		}
	case "retain", "wildcard-sub", "shared-sub", "subscription-id":
		if !c.yes(name) {
			return false, "the broker does not support " + KnownCapabilities[name][len("the broker supports "):]
		}
	case "topic-alias":
		if c.num("topic-alias-maximum", 0) == 0 {
			return false, "the broker accepts no topic aliases (Topic Alias Maximum 0 or absent)"
		}
	case "v3.1":
		if c["v3.1"] != "yes" {
			return false, "the broker does not accept MQTT 3.1 connections"
		}
	case "denied-topic":
		if c["denied-topic"] == "" {
			return false, "no denied-topic set: the profile must name a topic the broker refuses (ACL)"
		}
	case "receive-maximum", "maximum-packet-size":
		if _, ok := c[name]; !ok {
			return false, "the broker announces no " + strings.ReplaceAll(name, "-", " ")
		}
	case "auth-method":
		if c["auth-method"] == "" {
			return false, "no auth-method set: the profile must name an enhanced authentication method the broker supports"
		}
	case "empty-client-id":
		if c["empty-client-id"] != "yes" {
			return false, "the broker refuses zero-length client identifiers (allowed by the spec)"
		}
	case "websocket":
		if c["transport"] != "ws" && c["transport"] != "wss" {
			return false, "the target is not reached over WebSocket"
		}
	case "client-keepalive":
		if _, ok := c["server-keep-alive"]; ok {
			return false, "the broker replaces the client's Keep Alive (Server Keep Alive " + c["server-keep-alive"] + ")"
		}
	default:
		return false, "unknown capability " + strconv.Quote(name)
	}
	return true, ""
}

// Probe connects with each version and reads what the broker announces
// (5.0 CONNACK properties) or grants (3.1.1 SUBSCRIBE at QoS 2).
func Probe(ctx context.Context, t *Target, username, password, clientPrefix, topicPrefix string) (Capabilities, error) {
	caps := Capabilities{"transport": t.scheme}
	reachable := false
	for _, v := range []codec.Version{codec.V5, codec.V311, codec.V31} {
		connack, cn, err := probeConnect(ctx, t, v, clientPrefix+"probe", username, password)
		if err != nil {
			if _, refused := err.(dialError); refused {
				return caps, err
			}
		}
		reachable = reachable || err == nil || connack != nil
		ok := connack != nil && connack.ReasonCode == 0
		caps["v"+v.String()] = map[bool]string{true: "yes", false: "no"}[ok]
		if ok && v == codec.V5 {
			p := &connack.Props
			caps["maximum-qos"] = "2"
			if p.Has(codec.PropMaximumQoS) {
				caps["maximum-qos"] = strconv.Itoa(int(p.MaximumQoS))
			}
			for k, id := range map[string]codec.PropID{"retain": codec.PropRetainAvailable,
				"wildcard-sub": codec.PropWildcardSubAvailable, "shared-sub": codec.PropSharedSubAvailable,
				"subscription-id": codec.PropSubIDAvailable} {
				caps[k] = "yes"
				if p.Has(id) && *byteProp(p, id) == 0 {
					caps[k] = "no"
				}
			}
			caps["topic-alias-maximum"] = strconv.Itoa(int(p.TopicAliasMaximum))
			if p.Has(codec.PropReceiveMaximum) {
				caps["receive-maximum"] = strconv.Itoa(int(p.ReceiveMaximum))
			}
			if p.Has(codec.PropMaximumPacketSize) {
				caps["maximum-packet-size"] = strconv.Itoa(int(p.MaximumPacketSize))
			}
			if p.Has(codec.PropServerKeepAlive) {
				caps["server-keep-alive"] = strconv.Itoa(int(p.ServerKeepAlive))
			}
		}
		if ok && v == codec.V311 && caps["v5.0"] != "yes" {
			caps["maximum-qos"] = probeGrantedQoS(cn, topicPrefix+"/probe/"+randomID(3))
		}
		if cn != nil {
			cn.Close()
		}
	}
	if !reachable {
		return caps, fmt.Errorf("%s answered no CONNECT of any MQTT version", t.URL)
	}
	v := codec.V311
	if caps["v5.0"] == "yes" {
		v = codec.V5
	}
	caps["empty-client-id"] = "no"
	if connack, cn, err := probeConnect(ctx, t, v, "", username, password); err == nil {
		if connack.ReasonCode == 0 {
			caps["empty-client-id"] = "yes"
		}
		cn.Close()
	}
	return caps, nil
}

func byteProp(p *codec.Properties, id codec.PropID) *byte {
	switch id {
	case codec.PropRetainAvailable:
		return &p.RetainAvailable
	case codec.PropWildcardSubAvailable:
		return &p.WildcardSubAvailable
	case codec.PropSharedSubAvailable:
		return &p.SharedSubAvailable
	}
	return &p.SubIDAvailable
}

type dialError struct{ error }

type probeConn struct {
	nc interface {
		Write([]byte) (int, error)
		Close() error
	}
	rd *codec.Reader
	v  codec.Version
}

func (p *probeConn) Close() { _ = p.nc.Close() }

func probeConnect(ctx context.Context, t *Target, v codec.Version, clientID, user, pass string) (*codec.Connack, *probeConn, error) {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	nc, err := t.Dial(dctx)
	if err != nil {
		return nil, nil, dialError{fmt.Errorf("cannot reach %s: %w", t.URL, err)}
	}
	_ = nc.SetDeadline(time.Now().Add(3 * time.Second))
	c := &codec.Connect{ProtocolName: []byte("MQTT"), ProtocolLevel: v, CleanStart: true, ClientID: []byte(clientID), KeepAlive: 30}
	if v == codec.V31 {
		c.ProtocolName = []byte("MQIsdp")
	}
	if user != "" {
		c.UsernameFlag, c.Username = true, []byte(user)
	}
	if pass != "" {
		c.PasswordFlag, c.Password = true, []byte(pass)
	}
	if _, err := nc.Write(c.Append(nil, v)); err != nil {
		nc.Close()
		return nil, nil, err
	}
	rd := codec.NewReader(nc, 512)
	rd.Version = v
	rd.Lenient = true
	p, err := rd.ReadPacket()
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	ca, ok := p.(*codec.Connack)
	if !ok {
		nc.Close()
		return nil, nil, fmt.Errorf("answered CONNECT with %s", p.Type())
	}
	cp := *ca
	cp.Props.User = nil
	return &cp, &probeConn{nc: nc, rd: rd, v: v}, nil
}

func probeGrantedQoS(pc *probeConn, topic string) string {
	sub := &codec.Subscribe{PacketID: 1, Subscriptions: []codec.Subscription{{Filter: []byte(topic), QoS: 2}}}
	if _, err := pc.nc.Write(sub.Append(nil, pc.v)); err != nil {
		return "2"
	}
	for i := 0; i < 4; i++ {
		p, err := pc.rd.ReadPacket()
		if err != nil {
			return "2"
		}
		if sa, ok := p.(*codec.Suback); ok && len(sa.ReasonCodes) == 1 && sa.ReasonCodes[0] <= 2 {
			return strconv.Itoa(int(sa.ReasonCodes[0]))
		}
	}
	return "2"
}

// Profile declares what a broker does not support or advertise, so such
// cases are skipped rather than failed. See docs/scripts.md for the format.
type Profile struct {
	Name     string
	File     string
	Versions []codec.Version
	Caps     Capabilities // overrides of probed capabilities
	Vars     map[string]string
	Skips    []profileSkip
	Notes    string
}

type profileSkip struct {
	re     *regexp.Regexp
	reason string
}

func (p *Profile) skips(id string) string {
	for _, s := range p.Skips {
		if s.re.MatchString(id) {
			return s.reason
		}
	}
	return ""
}

func (p *Profile) speaks(v codec.Version) bool {
	return len(p.Versions) == 0 || hasVersion(p.Versions, v)
}

// Apply lays the profile's declarations over probed capabilities.
func (p *Profile) Apply(c Capabilities) {
	if len(p.Versions) > 0 {
		for _, v := range []codec.Version{codec.V31, codec.V311, codec.V5} {
			if !hasVersion(p.Versions, v) {
				c["v"+v.String()] = "no"
			}
		}
	}
	for k, v := range p.Caps {
		c[k] = v
	}
	for k, v := range p.Vars {
		c[k] = v
	}
}

var profileCapKeys = map[string]bool{"maximum-qos": true, "retain": true, "wildcard-sub": true,
	"shared-sub": true, "subscription-id": true, "topic-alias-maximum": true, "receive-maximum": true,
	"maximum-packet-size": true, "server-keep-alive": true, "v3.1": true, "empty-client-id": true}

// LoadProfile reads a profile file.
func LoadProfile(path string) (*Profile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseProfile(path, string(b))
}

// ParseProfile reads profile text; errors name file:line.
func ParseProfile(name, src string) (*Profile, error) {
	p := &Profile{File: name, Caps: Capabilities{}, Vars: map[string]string{}}
	for i, raw := range strings.Split(src, "\n") {
		ln := i + 1
		line := strings.TrimSpace(stripComment(raw))
		if line == "" {
			continue
		}
		errf := func(format string, a ...any) error {
			return fmt.Errorf("%s:%d: %s", name, ln, fmt.Sprintf(format, a...))
		}
		word, rest := cut(line)
		switch word {
		case "skip":
			pat, reason := cut(rest)
			re, err := regexp.Compile("^(" + pat + ")$")
			if err != nil || pat == "" {
				return nil, errf("skip needs a case-ID regexp and a reason: %v", err)
			}
			if reason == "" {
				return nil, errf("skip %s needs a reason", pat)
			}
			p.Skips = append(p.Skips, profileSkip{re, reason})
			continue
		case "var":
			k, v, ok := strings.Cut(rest, "=")
			if !ok {
				return nil, errf("var needs NAME = VALUE")
			}
			p.Vars[strings.TrimSpace(k)] = unquoteIfQuoted(strings.TrimSpace(v))
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, errf("expected KEY = VALUE, skip REGEX REASON, or var NAME = VALUE")
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case k == "name":
			p.Name = v
		case k == "notes":
			p.Notes = unquoteIfQuoted(v)
		case k == "versions":
			for _, f := range strings.Fields(v) {
				ver, ok := codec.ParseVersion(f)
				if !ok {
					return nil, errf("unknown MQTT version %q", f)
				}
				p.Versions = append(p.Versions, ver)
			}
		case profileCapKeys[k]:
			p.Caps[k] = v
		default:
			keys := make([]string, 0, len(profileCapKeys))
			for k := range profileCapKeys {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			return nil, errf("unknown key %q (name, notes, versions, %s)", k, strings.Join(keys, ", "))
		}
	}
	return p, nil
}

func unquoteIfQuoted(s string) string {
	if u, err := strconv.Unquote(s); err == nil && strings.HasPrefix(s, `"`) {
		return u
	}
	return s
}
