package broker

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"mqttspec/codec"
)

// Passwords is an Authenticator read from a password file: one user per line as
// USER:BCRYPT-HASH (what `htpasswd -nbB USER PASSWORD` or `mqttspec broker --hash-password`
// print); blank lines and lines starting with # are ignored. A CONNECT with a user name must
// carry that user's password; one without a user name is accepted (whether anonymous clients
// get this far is Config.AllowAnonymous).
type Passwords struct {
	hashes map[string][]byte
}

// LoadPasswords reads a password file.
func LoadPasswords(path string) (*Passwords, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParsePasswords(f, path)
}

// ParsePasswords reads USER:HASH lines from r; name is the file name errors are reported with.
func ParsePasswords(r io.Reader, name string) (*Passwords, error) {
	p := &Passwords{hashes: map[string][]byte{}}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		user, hash, ok := strings.Cut(text, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("%s:%d: want USER:BCRYPT-HASH", name, line)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return nil, fmt.Errorf("%s:%d: user %q: not a bcrypt hash: %v", name, line, user, err)
		}
		if _, dup := p.hashes[user]; dup {
			return nil, fmt.Errorf("%s:%d: user %q listed twice", name, line, user)
		}
		p.hashes[user] = []byte(hash)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return p, nil
}

// Authenticate implements Authenticator: an unknown user, a missing or a wrong password is
// refused with Bad User Name or Password.
func (p *Passwords) Authenticate(info ConnectInfo) codec.ReasonCode {
	if !info.HasUsername {
		return codec.Success
	}
	hash, ok := p.hashes[info.Username]
	if !ok || !info.HasPassword || bcrypt.CompareHashAndPassword(hash, info.Password) != nil {
		return codec.BadUserNameOrPassword
	}
	return codec.Success
}

// HashPassword is the bcrypt hash of password for a password file.
func HashPassword(password []byte) (string, error) {
	h, err := bcrypt.GenerateFromPassword(password, bcrypt.DefaultCost)
	return string(h), err
}
