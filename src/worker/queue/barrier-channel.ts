/**
 * How the start barrier tells waiting shards that their phase's start is set: the shard that sets
 * it PUBLISHes it on one channel per queue prefix, and every worker keeps one connection SUBSCRIBEd
 * to that channel for its whole life, handing each announcement to the shards it has waiting.
 *
 * Why a channel, and one per worker: a waiting shard then sends nothing while it waits (it polled
 * twice every 20 ms before), it learns the start one delivery after it is set, and no connection is
 * opened or subscribed per wait (a TCP and TLS set-up would delay the shards that arrive last). The
 * subscribed connection is its own: a connection in subscriber mode takes no other command, and the
 * worker's phase connection must stay free for small control commands.
 *
 * Announcements are fire-and-forget: one sent while a worker's connection is down is lost. The
 * barrier therefore reads the start itself after each new subscription (`onResubscribed`) and, as a
 * last resort, every second (`RECHECK_MS` in `start-barrier.ts`).
 */
import type { Redis } from 'ioredis';
import { disconnectRedis } from '../../shared/redis-connection';
import { barrierChannel, type QueueLayout } from '../../shared/queue-layout';

export interface BarrierChannel {
  /** Resolves once the channel is subscribed for the first time: from then on no announcement is missed while connected. */
  ready: Promise<void>;
  /** Calls `listener` with the start (epoch ms on the run's clock) announced for the barrier whose start key is `startKey`; returns its removal. */
  onStart(startKey: string, listener: (runClockMs: number) => void): () => void;
  /** Calls `listener` each time the channel is subscribed again after a lost connection (announcements may have been missed meanwhile); returns its removal. */
  onResubscribed(listener: () => void): () => void;
  /** Closes the subscribed connection. Idempotent. */
  close(): void;
}

/**
 * Subscribes `subscriber` (a connection of its own, which this takes over and closes) to the
 * barrier channel of `layout`, and again each time it reconnects.
 */
export function subscribeBarrierChannel(subscriber: Redis, layout: QueueLayout): BarrierChannel {
  const channel = barrierChannel(layout);
  const byKey = new Map<string, Set<(runClockMs: number) => void>>();
  const resubscribedListeners = new Set<() => void>();
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  let subscribedOnce = false;

  // ioredis resubscribes on its own after a reconnect too; subscribing again is harmless, and the
  // reply to this SUBSCRIBE comes after the subscription is active, which is when a read of the
  // start closes the gap (the connection's own 'ready' comes before).
  const subscribe = () => {
    subscriber.subscribe(channel).then(
      () => {
        if (subscribedOnce) for (const listener of [...resubscribedListeners]) listener();
        subscribedOnce = true;
        markReady();
      },
      // The connection dropped again before the reply: its next 'ready' subscribes again.
      () => undefined,
    );
  };
  subscriber.on('ready', subscribe);
  if (subscriber.status === 'ready') subscribe();
  subscriber.on('message', (from: string, message: string) => {
    if (from !== channel) return;
    const at = message.lastIndexOf(' ');
    const runClockMs = Number(message.slice(at + 1));
    const listeners = byKey.get(message.slice(0, at));
    if (at < 0 || !listeners || !Number.isFinite(runClockMs)) return;
    for (const listener of [...listeners]) listener(runClockMs);
  });

  return {
    ready,
    onStart(startKey, listener) {
      let listeners = byKey.get(startKey);
      if (!listeners) byKey.set(startKey, (listeners = new Set()));
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && byKey.get(startKey) === listeners) byKey.delete(startKey);
      };
    },
    onResubscribed(listener) {
      resubscribedListeners.add(listener);
      return () => resubscribedListeners.delete(listener);
    },
    close() {
      subscriber.off('ready', subscribe);
      disconnectRedis(subscriber);
    },
  };
}

/** Announces on the barrier channel of `layout` that the barrier whose start key is `startKey` starts at `runClockMs`. */
export async function announceStart(redis: Redis, layout: QueueLayout, startKey: string, runClockMs: number): Promise<void> {
  await redis.publish(barrierChannel(layout), `${startKey} ${runClockMs}`);
}
