package fuzz

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// process is a broker the fuzzer started itself with --exec: a shell
// command line in its own process group, so that stopping it stops
// whatever the command started.
type process struct {
	cmdline string
	dial    func(context.Context) (net.Conn, error)

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{} // closed when the process has exited
	status string        // exit status, once done
	out    *tail
}

// tail keeps the last bytes written to it: the end of the broker's stderr.
type tail struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// startTimeout bounds how long a started broker may take to accept
// connections.
const startTimeout = 15 * time.Second

// start runs the command and waits until the broker accepts a connection.
func (p *process) start(ctx context.Context) error {
	cmd := exec.Command("sh", "-c", p.cmdline)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &tail{max: 4096}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("--exec %q: %w", p.cmdline, err)
	}
	done := make(chan struct{})
	p.mu.Lock()
	p.cmd, p.done, p.out, p.status = cmd, done, out, ""
	p.mu.Unlock()
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.status = exitStatus(cmd, err)
		p.mu.Unlock()
		close(done)
	}()
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("--exec %q exited while starting (%s): %s", p.cmdline, p.exitStatus(), out.String())
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		dctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		nc, err := p.dial(dctx)
		cancel()
		if err == nil {
			nc.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.stop()
	return fmt.Errorf("--exec %q: the broker did not accept connections within %s", p.cmdline, startTimeout)
}

func exitStatus(cmd *exec.Cmd, err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "killed by signal " + ws.Signal().String()
		}
		return fmt.Sprintf("exit status %d", ee.ExitCode())
	}
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("exit status %d", cmd.ProcessState.ExitCode())
}

// exited reports whether the broker has exited, waiting up to wait for it.
func (p *process) exited(wait time.Duration) bool {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		return false
	}
	if wait <= 0 {
		select {
		case <-done:
			return true
		default:
			return false
		}
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

func (p *process) exitStatus() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

func (p *process) stderrTail() string {
	p.mu.Lock()
	out := p.out
	p.mu.Unlock()
	if out == nil {
		return ""
	}
	return out.String()
}

// stop kills the process group the fuzzer started and waits for its exit.
func (p *process) stop() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-done
}
