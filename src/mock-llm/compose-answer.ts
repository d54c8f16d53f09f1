/**
 * The mock's answer: a recall probe is answered from the facts inside the context window, anything
 * else with `maxTokens` pseudo-words chosen by a hash of the request, so answers are reproducible.
 */
import { findPlantedFacts, forgottenAnswerText, probedKey, recallAnswerText } from '../shared/context-probe';
import type { ChatMessage } from '../shared/chat';
import { retainedMessages } from './context-window';
import { createRandom, hash32 } from '../shared/seeded-random';

const WORDS = [
  'alpha',
  'bravo',
  'charlie',
  'delta',
  'echo',
  'foxtrot',
  'golf',
  'hotel',
  'india',
  'juliet',
  'kilo',
  'lima',
  'mike',
  'november',
  'oscar',
  'papa',
  'quebec',
  'romeo',
  'sierra',
  'tango',
  'uniform',
  'victor',
  'whiskey',
  'xray',
  'yankee',
  'zulu',
];

export interface Answer {
  /** The answer split into tokens as they are streamed (each keeps its trailing space but the last). */
  tokens: string[];
  finishReason: 'stop' | 'length';
}

export function composeAnswer(options: {
  seed: number;
  model: string;
  messages: readonly ChatMessage[];
  windowTokens: number;
  maxTokens: number;
}): Answer {
  const last = [...options.messages].reverse().find((message) => message.role === 'user');
  const key = last ? probedKey(last.content) : undefined;
  let words: string[];
  let finishReason: Answer['finishReason'] = 'stop';
  if (key !== undefined) {
    const visible = retainedMessages(options.messages, options.windowTokens);
    const fact = visible.flatMap((message) => findPlantedFacts(message.content)).find((candidate) => candidate.key === key);
    words = (fact ? recallAnswerText(fact) : forgottenAnswerText(key)).split(' ');
    if (words.length > options.maxTokens) {
      words = words.slice(0, options.maxTokens);
      finishReason = 'length';
    }
  } else {
    const random = createRandom(hash32(options.seed, `${options.model}\u0000${JSON.stringify(options.messages)}`));
    words = Array.from({ length: options.maxTokens }, () => WORDS[Math.floor(random() * WORDS.length)] as string);
    finishReason = 'length';
  }
  return { tokens: words.map((word, index) => (index < words.length - 1 ? `${word} ` : word)), finishReason };
}
