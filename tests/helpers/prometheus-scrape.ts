/**
 * Scrapes a Prometheus endpoint over HTTP and reads it with a real parser of the text format
 * (parse-prometheus-text-format, prom2json's output), as a Prometheus server would.
 *
 * That parser drops the labels (and `_count`, `_sum`) of a histogram that has labels other than
 * `le` (yunyu/parse-prometheus-text-format#13, fix #8 unmerged): every grym-perf histogram has. So
 * histograms are read the way the Prometheus server stores them, as their separate series: the
 * text is parsed a second time without the histograms' `# TYPE` lines, and `NAME_count` is then an
 * ordinary series with all its labels.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

type Family = ReturnType<typeof parsePrometheusTextFormat>[number];

export interface Scrape {
  /** The families by name (a histogram's as the parser gives it: use `histogramCount`). */
  families: Map<string, Family>;
  /** Sum of a counter's or gauge's samples whose labels include `labels`. */
  sum(name: string, labels?: Record<string, string>): number;
  /** Sum of a histogram's `_count` over its samples whose labels include `labels`. */
  histogramCount(name: string, labels?: Record<string, string>): number;
  /** Distinct values of `label` among a family's samples that include `labels`. */
  labelValues(name: string, label: string, labels?: Record<string, string>): string[];
}

const matches = (sample: { labels?: Record<string, string> }, labels: Record<string, string>) =>
  Object.entries(labels).every(([key, value]) => sample.labels?.[key] === value);

export async function scrape(url: string): Promise<Scrape> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`GET ${url}: HTTP ${response.status}`);
  if (!/^text\/plain; version=0\.0\.4/.test(response.headers.get('content-type') ?? '')) {
    throw new Error(`GET ${url}: content-type ${response.headers.get('content-type')} is not the text exposition format`);
  }
  const text = await response.text();
  const families = new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
  const histograms = [...families.values()].filter((family) => family.type === 'HISTOGRAM').map((family) => family.name);
  const untyped = text
    .split('\n')
    .filter((line) => !histograms.some((name) => line === `# TYPE ${name} histogram`))
    .join('\n');
  // A histogram's series alternate (buckets, sum, count of one label set, then the next): a name
  // comes back once per label set, so families of one name are merged.
  const series = new Map<string, Family>();
  for (const family of parsePrometheusTextFormat(untyped)) {
    const known = series.get(family.name);
    if (known) known.metrics.push(...family.metrics);
    else series.set(family.name, family);
  }
  const samples = (name: string, labels: Record<string, string>) =>
    (series.get(name)?.metrics ?? []).filter((sample) => matches(sample, labels));
  const histogramNamed = (name: string) => {
    if (families.get(name)?.type !== 'HISTOGRAM') throw new Error(`${url} has no histogram ${name}`);
    return `${name}_count`;
  };
  return {
    families,
    sum: (name, labels = {}) => samples(name, labels).reduce((total, sample) => total + Number(sample.value), 0),
    histogramCount: (name, labels = {}) => samples(histogramNamed(name), labels).reduce((total, sample) => total + Number(sample.value), 0),
    labelValues: (name, label, labels = {}) => [...new Set(samples(name, labels).map((sample) => sample.labels?.[label] ?? ''))].sort(),
  };
}
