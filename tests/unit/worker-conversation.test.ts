/**
 * Seeded conversations: the same seed sends the same turns, facts are planted and probed under the
 * phase's rules, replies grow the history, and a probe is scored against what was planted.
 */
import { findPlantedFacts, probedKey, type Fact } from '../../src/shared/context-probe';
import { parsePlan } from '../../src/shared/parse-plan';
import { Conversation, type ProbeResult, type Turn } from '../../src/worker/conversation';
import type { RequestOutcome } from '../../src/worker/targets/llm-target';

const phase = parsePlan(`
name: p
target: { baseUrl: "http://127.0.0.1:1/v1" }
phases:
  - { name: a, scenario: requests, models: [m], load: { concurrency: 1, requests: 10 }, conversation: { turns: 12, promptTokens: 5 }, context: { facts: 3, minDistance: 3 } }
`).phases[0]!;

function reply(content: string): RequestOutcome {
  return {
    ok: true,
    startMs: 0,
    firstContentMs: null,
    endMs: 1,
    contentChunkTimesMs: [],
    content,
    outputTokens: 1,
    inputTokens: 1,
    usageFromServer: false,
  };
}

const failure: RequestOutcome = { ok: false, startMs: 0, endMs: 1, errorClass: 'http_500', message: 'boom' };

/** Plays a whole conversation with a model that remembers everything, recording every turn. */
function play(seed: number, options: { failTurn?: number; modelAt?: (turn: number) => string } = {}) {
  const conversation = new Conversation(phase, seed, 'run-1');
  const memory = new Map<string, string>();
  const turns: Array<{ turn: Turn; probe?: ProbeResult; plantedKeys: string[] }> = [];
  for (let index = 0; !conversation.finished; index++) {
    expect(index).toBeLessThan(phase.conversation.turns);
    const turn = conversation.next();
    const text = turn.messages.at(-1)!.content;
    const planted: Fact[] = findPlantedFacts(text);
    const asked = probedKey(text);
    const outcome = index === options.failTurn ? failure : reply(asked ? (memory.get(asked) ?? 'no idea') : 'Noted.');
    if (outcome.ok) for (const fact of planted) memory.set(fact.key, fact.value);
    const probe = conversation.accept(turn, outcome, options.modelAt?.(index) ?? 'm');
    turns.push({ turn, ...(probe ? { probe } : {}), plantedKeys: planted.map((fact) => fact.key) });
  }
  return turns;
}

describe('conversation', () => {
  test('the same seed sends the same turns; another seed sends others', () => {
    const texts = (seed: number) => play(seed).map(({ turn }) => turn.messages.at(-1)!.content);
    expect(texts(42)).toEqual(texts(42));
    expect(texts(42)).not.toEqual(texts(43));
  });

  test('facts are planted once each with unique keys and probed at least minDistance turns later, within the conversation', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const turns = play(seed);
      expect(turns).toHaveLength(12);
      const plantedAt = new Map<string, number>();
      turns.forEach(({ plantedKeys }, index) => plantedKeys.forEach((key) => plantedAt.set(key, index)));
      expect(plantedAt.size).toBe(3);
      const probed = turns.flatMap(({ turn }, index) =>
        turn.probe ? [{ key: turn.probe.fact.key, index, distance: turn.probe.turn - turn.probe.plantedTurn }] : [],
      );
      // Every fact fits: 3 plants and 3 probes in 12 turns.
      expect(probed).toHaveLength(3);
      expect(new Set(probed.map((probe) => probe.key)).size).toBe(probed.length);
      for (const probe of probed) {
        expect(probe.distance).toBeGreaterThanOrEqual(3);
        expect(probe.index - plantedAt.get(probe.key)!).toBe(probe.distance);
      }
      // A model that remembers everything recalls every probed fact.
      expect(turns.filter(({ probe }) => probe).every(({ probe }) => probe!.recalled && !probe!.crossSwitch)).toBe(true);
    }
  });

  test("per-run prompts start with the run's id, so a rerun is not answered from the cache of the last; repeat prompts do not", () => {
    const first = (runId: string, prompts: 'per-run' | 'repeat') =>
      new Conversation({ ...phase, conversation: { ...phase.conversation, prompts } }, 5, runId).next().messages[0]!.content;
    expect(first('run-1', 'per-run')).toBe('[run run-1] You are a helpful assistant.');
    expect(first('run-2', 'per-run')).not.toBe(first('run-1', 'per-run'));
    expect(first('run-1', 'repeat')).toBe(first('run-2', 'repeat'));
    expect(phase.conversation.prompts).toBe('per-run');
  });

  test('answers join the history, so each turn sends everything said before', () => {
    const turns = play(5);
    turns.forEach(({ turn }, index) => {
      expect(turn.messages).toHaveLength(2 + 2 * index);
      expect(turn.messages[0]).toEqual({ role: 'system', content: `[run run-1] ${phase.conversation.systemPrompt}` });
    });
    const last = turns.at(-1)!.turn.messages;
    expect(last.at(-2)).toEqual({ role: 'assistant', content: expect.any(String) });
    // Filler turns carry promptTokens words (a planting turn adds the fact sentence in front).
    const plain = turns.find(({ turn, plantedKeys }) => !turn.probe && plantedKeys.length === 0)!;
    expect(plain.turn.messages.at(-1)!.content.split(' ')).toHaveLength(5);
  });

  test('a wrong answer is a miss; a fact planted on one model and probed on another is a cross-switch probe', () => {
    const conversation = new Conversation(phase, 9, 'run-1');
    const results: ProbeResult[] = [];
    for (let index = 0; !conversation.finished; index++) {
      const turn = conversation.next();
      // Turns 0..5 go to model a, the rest to model b; the model never recalls.
      const probe = conversation.accept(turn, reply('I do not know.'), index < 6 ? 'a' : 'b');
      if (probe) results.push(probe);
    }
    expect(results.length).toBeGreaterThan(0);
    expect(results.every((result) => !result.recalled)).toBe(true);
    expect(results.some((result) => result.crossSwitch)).toBe(true);
  });

  test('a fact whose planting turn failed is never probed, and a failed turn leaves no trace in the history', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const plantTurn = play(seed).findIndex(({ plantedKeys }) => plantedKeys.length > 0);
      const turns = play(seed, { failTurn: plantTurn });
      const lostKey = turns[plantTurn]!.plantedKeys[0]!;
      expect(turns.some(({ turn }) => turn.probe?.fact.key === lostKey)).toBe(false);
      expect(turns[plantTurn + 1]!.turn.messages).toHaveLength(turns[plantTurn]!.turn.messages.length);
    }
  });
});
