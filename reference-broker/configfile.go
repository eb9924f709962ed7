package broker

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// configKeys are the settings a configuration file may give, each as "key = value" on its own
// line (blank lines and lines starting with # are ignored). Booleans are true or false,
// durations are Go durations (10s, 500ms).
var configKeys = map[string]func(c *Config, v string) error{
	"maximum-qos": func(c *Config, v string) error {
		n, err := parseUint(v, 2)
		c.MaximumQoS = byte(n)
		return err
	},
	"retain-available":                  boolKey(func(c *Config) *bool { return &c.RetainAvailable }),
	"wildcard-subscription-available":   boolKey(func(c *Config) *bool { return &c.WildcardSubAvailable }),
	"shared-subscription-available":     boolKey(func(c *Config) *bool { return &c.SharedSubAvailable }),
	"subscription-identifier-available": boolKey(func(c *Config) *bool { return &c.SubIDAvailable }),
	"allow-anonymous":                   boolKey(func(c *Config) *bool { return &c.AllowAnonymous }),
	"topic-alias-maximum": func(c *Config, v string) error {
		n, err := parseUint(v, 65535)
		c.TopicAliasMaximum = uint16(n)
		return err
	},
	"receive-maximum": func(c *Config, v string) error {
		n, err := parseUint(v, 65535)
		if err == nil && n == 0 {
			err = fmt.Errorf("0 is not a Receive Maximum")
		}
		c.ReceiveMaximum = uint16(n)
		return err
	},
	"maximum-packet-size": func(c *Config, v string) error {
		n, err := parseUint(v, maxPacketLimit)
		if err == nil && n == 0 {
			err = fmt.Errorf("0 is not a Maximum Packet Size")
		}
		c.MaximumPacketSize = uint32(n)
		return err
	},
	"server-keep-alive": func(c *Config, v string) error {
		n, err := parseUint(v, 65535)
		c.ServerKeepAlive = uint16(n)
		return err
	},
	"max-connections":   intKey(func(c *Config) *int { return &c.MaxConnections }),
	"max-inflight":      intKey(func(c *Config) *int { return &c.MaxInflight }),
	"max-queued":        intKey(func(c *Config) *int { return &c.MaxQueued }),
	"max-subscriptions": intKey(func(c *Config) *int { return &c.MaxSubscriptions }),
	"connect-timeout":   durationKey(func(c *Config) *time.Duration { return &c.ConnectTimeout }),
	"write-timeout":     durationKey(func(c *Config) *time.Duration { return &c.WriteTimeout }),
	"sys-interval":      durationKey(func(c *Config) *time.Duration { return &c.SysInterval }),
	"response-information": func(c *Config, v string) error {
		c.ResponseInformation = v
		return nil
	},
}

// LoadConfigFile applies the settings of a configuration file to cfg.
func LoadConfigFile(path string, cfg *Config) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return ParseConfigFile(f, path, cfg)
}

// ParseConfigFile applies "key = value" settings read from r to cfg; name is the file name
// errors are reported with. An unknown key, a repeated key or a bad value is an error.
func ParseConfigFile(r io.Reader, name string, cfg *Config) error {
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		key, value, ok := strings.Cut(text, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok {
			return fmt.Errorf("%s:%d: want key = value", name, line)
		}
		set := configKeys[key]
		if set == nil {
			return fmt.Errorf("%s:%d: unknown key %q", name, line, key)
		}
		if first, dup := seen[key]; dup {
			return fmt.Errorf("%s:%d: %s already set on line %d", name, line, key, first)
		}
		seen[key] = line
		if err := set(cfg, value); err != nil {
			return fmt.Errorf("%s:%d: %s: %v", name, line, key, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if _, err := cfg.withDefaults(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func parseUint(v string, max uint64) (uint64, error) {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number", v)
	}
	if n > max {
		return 0, fmt.Errorf("%d exceeds %d", n, max)
	}
	return n, nil
}

func boolKey(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		*field(c) = b
		return nil
	}
}

func intKey(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := parseUint(v, 1<<31-1)
		*field(c) = int(n)
		return err
	}
}

func durationKey(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("%q is not a duration like 10s", v)
		}
		*field(c) = d
		return nil
	}
}
