// MemberRotation: which member the next attempt dials, a refusing member skipped (issue 30).
import { describe, expect, it } from 'vitest';
import { MemberRotation } from '../../runtime/net/members.ts';
import { configMismatch, mismatchAdvice } from '../../runtime/net/retry.ts';

const refused = () => new Error('Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused"');
const down = () => new Error('connect ECONNREFUSED 10.0.0.2:5672');
const tls = () => Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });

describe('MemberRotation', () => {
  it('goes down the list, wrapping, and skips a member that refused us from then on', () => {
    const r = new MemberRotation(['a', 'b', 'c']);
    expect(r.current).toBe('a');
    expect(r.failed(down())).toEqual({ cause: 'transient', allRefused: false });
    expect(r.advance()).toBe('b');
    expect(r.failed(refused())).toEqual({ cause: 'permanent', refusedMember: 'b', allRefused: false });
    expect([r.advance(), r.advance(), r.advance(), r.advance()]).toEqual(['c', 'a', 'c', 'a']);
    expect(r.refusedMembers()).toEqual(['b']);
  });

  it('reports a member once, and all refused only when every member has', () => {
    const r = new MemberRotation(['a', 'b']);
    r.failed(refused());
    expect(r.failed(refused())).toEqual({ cause: 'permanent', allRefused: false }); // a again: already marked
    r.advance();
    expect(r.failed(refused())).toEqual({ cause: 'permanent', refusedMember: 'b', allRefused: true });
    expect(r.advance()).toBeUndefined();
  });

  it('noneAccepts: every member failed on a refusal or a certificate; a success clears its member', () => {
    const r = new MemberRotation(['a', 'b']);
    r.failed(tls());
    expect(r.noneAccepts).toBe(false);
    r.advance();
    r.failed(refused());
    expect(r.noneAccepts).toBe(true);
    expect(r.allRefused).toBe(false);
    r.advance(); // a (b is refused)
    r.connected();
    expect(r.noneAccepts).toBe(false);
  });
});

describe('configMismatch (406 PRECONDITION_FAILED)', () => {
  it('names the queue, the argument and both values, and says what to change', () => {
    const err = new Error(
      `Operation failed: QueueDeclare; 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue 'c1.mesh' in vhost '/': received the value 'classic' of type 'longstr' but current is the value 'quorum' of type 'longstr'"`,
    );
    const m = configMismatch(err);
    expect(m).toEqual({ kind: 'queue', name: 'c1.mesh', arg: 'x-queue-type', declared: 'classic', current: 'quorum' });
    expect(mismatchAdvice(m!)).toMatch(/^queue 'c1\.mesh' exists on the broker with x-queue-type quorum, this process declares classic: delete the old queue \(rabbitmqctl delete_queue c1\.mesh; .*MIROS_TOPOLOGY/);
  });

  it('knows an exchange declared with another type, and is undefined for other 406s', () => {
    const m = configMismatch(new Error(`PRECONDITION_FAILED - inequivalent arg 'type' for exchange 'miros.mesh.exchange' in vhost '/': received 'topic' but current is 'fanout'`));
    expect(m).toMatchObject({ kind: 'exchange', name: 'miros.mesh.exchange', declared: 'topic', current: 'fanout' });
    expect(configMismatch(new Error('Channel closed by server: 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - unknown delivery tag 7"'))).toBeUndefined();
  });
});
