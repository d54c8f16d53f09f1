/**
 * A seeded conversation: a system prompt, user turns of filler words that make the history grow as
 * in a real chat, and facts planted in some turns and probed in later ones. Replies are appended to
 * the history, so what a model must remember is exactly what a real integration would send it.
 */
import { isRecalled, plantFactText, probeText, type Fact } from '../shared/context-probe';
import type { Phase } from '../shared/phase-schema';
import { createRandom } from '../shared/seeded-random';
import type { ChatMessage } from '../shared/chat';
import type { RequestOutcome } from './targets/llm-target';

const FILLER = [
  'the',
  'weather',
  'report',
  'mentions',
  'rivers',
  'lanterns',
  'copper',
  'gardens',
  'quiet',
  'trains',
  'maps',
  'salt',
  'harbor',
  'violet',
  'engine',
  'paper',
  'orbit',
  'candle',
  'meadow',
  'signal',
];
const KEYS = ['falcon', 'harbor', 'lantern', 'meadow', 'orchid', 'quartz', 'raven', 'saffron', 'tundra', 'willow'];
const VALUES = ['amber', 'cobalt', 'ember', 'indigo', 'jade', 'onyx', 'pearl', 'ruby', 'topaz', 'umber'];

/** What the next turn sends, and what it is checking. */
export interface Turn {
  messages: ChatMessage[];
  /** The same messages serialized as a JSON array: the history's part is kept serialized between turns, never serialized again. */
  messagesJson: string;
  /** Set when this turn asks for a fact planted earlier. */
  probe?: { fact: Fact; plantedTurn: number; plantedModel: string; turn: number };
}

/** A scored probe: turn distance, and whether plant and probe went to different models. */
export interface ProbeResult {
  distance: number;
  recalled: boolean;
  crossSwitch: boolean;
}

let conversationCounter = 0;

export class Conversation {
  /** Unique in this thread: the key of a module target's session. */
  readonly id = `c${++conversationCounter}`;
  private readonly random: () => number;
  private readonly history: ChatMessage[];
  /** `history` serialized, its messages joined by commas (a JSON array without its brackets). */
  private historyJson: string;
  /** The user message of the turn `next` gave last, serialized. */
  private pendingUserJson: { turn: Turn; json: string } | undefined;
  private readonly plants = new Map<number, Fact>();
  private readonly probes = new Map<number, { fact: Fact; plantedTurn: number }>();
  private readonly plantedOn = new Map<string, string>();
  private turn = 0;

  /** `runId` salts the system message when the phase's prompts are `per-run`. */
  constructor(
    private readonly phase: Phase,
    seed: number,
    runId: string,
  ) {
    this.random = createRandom(seed);
    const { systemPrompt, prompts } = phase.conversation;
    this.history = [{ role: 'system', content: prompts === 'per-run' ? `[run ${runId}] ${systemPrompt}` : systemPrompt }];
    this.historyJson = JSON.stringify(this.history[0]);
    this.schedule();
  }

  /** Plants at seeded turns early enough to be probed `minDistance` later; one probe per fact. */
  private schedule(): void {
    const { facts, minDistance } = this.phase.context;
    const turns = this.phase.conversation.turns;
    if (facts === 0) return;
    const plantSlots = Array.from({ length: turns - minDistance }, (_, index) => index);
    const taken = new Set<number>();
    for (let index = 0; index < facts && plantSlots.length > 0; index++) {
      const plantTurn = plantSlots.splice(Math.floor(this.random() * plantSlots.length), 1)[0] as number;
      taken.add(plantTurn);
      const tag = Math.floor(this.random() * 1000);
      this.plants.set(plantTurn, {
        key: `${this.pick(KEYS)}-${tag}-${index}`,
        value: `${this.pick(VALUES)}-${Math.floor(this.random() * 1000)}`,
      });
    }
    // Latest plant first: it has the fewest turns left to be probed in, so earlier facts (with
    // more choice) do not crowd it out (probed facts went from 94 % to 100 % at 3 facts in 12 turns).
    for (const [plantTurn, fact] of [...this.plants.entries()].sort((a, b) => b[0] - a[0])) {
      const free = Array.from({ length: turns - plantTurn - minDistance }, (_, offset) => plantTurn + minDistance + offset).filter(
        (turn) => !taken.has(turn),
      );
      if (free.length === 0) continue; // crowded out: this fact is planted but never probed, so never counted
      const probeTurn = free[Math.floor(this.random() * free.length)] as number;
      taken.add(probeTurn);
      this.probes.set(probeTurn, { fact, plantedTurn: plantTurn });
    }
  }

  private pick(words: readonly string[]): string {
    return words[Math.floor(this.random() * words.length)] as string;
  }

  get finished(): boolean {
    return this.turn >= this.phase.conversation.turns;
  }

  /** The messages of the next turn (history plus the new user message). */
  next(): Turn {
    // A fact whose planting turn failed never reached the model: probing it would score a miss.
    const scheduled = this.probes.get(this.turn);
    const probe = scheduled && this.plantedOn.has(scheduled.fact.key) ? scheduled : undefined;
    let text: string;
    if (probe) {
      text = probeText(probe.fact.key);
    } else {
      let filler = '';
      for (let word = 0; word < this.phase.conversation.promptTokens; word++)
        filler += word === 0 ? this.pick(FILLER) : ` ${this.pick(FILLER)}`;
      const fact = this.plants.get(this.turn);
      text = fact ? `${plantFactText(fact)} ${filler}`.trim() : filler || 'Continue.';
    }
    const user: ChatMessage = { role: 'user', content: text };
    const userJson = JSON.stringify(user);
    const turn: Turn = {
      messages: [...this.history, user],
      messagesJson: `[${this.historyJson},${userJson}]`,
      ...(probe ? { probe: { ...probe, plantedModel: this.plantedOn.get(probe.fact.key) as string, turn: this.turn } } : {}),
    };
    this.pendingUserJson = { turn, json: userJson };
    return turn;
  }

  /**
   * Takes the outcome of the turn from `next`: a reply joins the history; a failed turn leaves no
   * trace in it (the app would not keep an unanswered message) and its probe is not scored.
   */
  accept(turn: Turn, outcome: RequestOutcome, model: string): ProbeResult | undefined {
    const turnIndex = this.turn++;
    if (!outcome.ok) return undefined;
    const planted = this.plants.get(turnIndex);
    if (planted && !turn.probe) this.plantedOn.set(planted.key, model);
    const user = turn.messages[turn.messages.length - 1] as ChatMessage;
    const reply: ChatMessage = { role: 'assistant', content: outcome.content };
    this.history.push(user, reply);
    const userJson = this.pendingUserJson?.turn === turn ? this.pendingUserJson.json : JSON.stringify(user);
    this.pendingUserJson = undefined;
    this.historyJson += `,${userJson},${JSON.stringify(reply)}`;
    if (!turn.probe) return undefined;
    return {
      distance: turn.probe.turn - turn.probe.plantedTurn,
      recalled: isRecalled(outcome.content, turn.probe.fact),
      crossSwitch: turn.probe.plantedModel !== model,
    };
  }
}
