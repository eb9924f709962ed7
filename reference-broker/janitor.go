package broker

import "time"

// purgeInterval is how often expired retained messages are dropped from memory; until then
// they are only skipped.
const purgeInterval = 10 * time.Second

// janitor is the broker's clock: it publishes delayed Wills, ends expired sessions, purges
// expired retained messages and refreshes the $SYS topics, each when due.
func (b *Broker) janitor() {
	defer b.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var nextSys time.Time
	nextPurge := time.Now().Add(purgeInterval)
	for {
		now := time.Now()
		next := b.sessions.expire(now)
		if !now.Before(nextPurge) {
			b.retained.purge(now)
			nextPurge = now.Add(purgeInterval)
		}
		if b.cfg.SysInterval > 0 && !now.Before(nextSys) {
			b.publishSys(now)
			nextSys = now.Add(b.cfg.SysInterval)
		}
		wait := nextPurge.Sub(now)
		for _, t := range []time.Time{next, nextSys} {
			if !t.IsZero() && t.Sub(now) < wait {
				wait = t.Sub(now)
			}
		}
		timer.Reset(max(wait, time.Millisecond))
		select {
		case <-b.quit:
			return
		case <-b.sessions.kick:
		case <-timer.C:
		}
	}
}
