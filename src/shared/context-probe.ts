/**
 * The context-probe protocol: how a conversation plants a fact and later asks for it, and how an
 * answer is scored. Shared by the scenarios (which plant and probe) and the mock LLM (which answers
 * from what is still inside its context window), so both speak exactly the same sentences.
 *
 * A real model is probed with the same sentences; a recall counts only when the answer contains the
 * planted value, so a model that guesses or refuses scores zero for that probe.
 */

/** One planted fact: "the code word for <key> is <value>". */
export interface Fact {
  key: string;
  value: string;
}

export function plantFactText(fact: Fact): string {
  return `Remember this: the code word for ${fact.key} is ${fact.value}.`;
}

export function probeText(key: string): string {
  return `What is the code word for ${key}? Answer with the code word only.`;
}

/** Finds planted facts in a text (used by the mock to search its context window). */
export function findPlantedFacts(text: string): Fact[] {
  const facts: Fact[] = [];
  for (const match of text.matchAll(/the code word for ([\w-]+) is ([\w-]+)\./g)) {
    facts.push({ key: match[1] as string, value: match[2] as string });
  }
  return facts;
}

/** The key a probe asks about, or undefined when the text is not a probe. */
export function probedKey(text: string): string | undefined {
  return /What is the code word for ([\w-]+)\?/.exec(text)?.[1];
}

/** A recall counts when the answer names the planted value as a whole word (case-insensitive). */
export function isRecalled(answer: string, fact: Fact): boolean {
  const escaped = fact.value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`\\b${escaped}\\b`, 'i').test(answer);
}

/** The mock's answers, fixed so that tests and reports can read them. The probe asks for the code word only. */
export function recallAnswerText(fact: Fact): string {
  return fact.value;
}

export function forgottenAnswerText(key: string): string {
  return `I do not know the code word for ${key}.`;
}
