// Namespaces in links and requests, the hash route's query, the choices the jobs list offers.
import { describe, expect, it } from 'vitest';
import { jobApi, jobHref, jobKey, namespaceChoices, parseHash, withNamespace } from '../../src/namespaces.js';
import { allocsByJob } from '../../src/status.js';

describe('namespaces', () => {
  it('adds the namespace to a path, keeping its query', () => {
    expect(withNamespace('/v1/jobs', '*')).toBe('/v1/jobs?namespace=*');
    expect(withNamespace('/v1/allocations?task_states=false', 'team a')).toBe('/v1/allocations?task_states=false&namespace=team%20a');
    expect(withNamespace('/v1/jobs', '')).toBe('/v1/jobs');
  });
  it('a job request always names its namespace; an id with a slash stays one segment', () => {
    expect(jobApi('batch/periodic-1', 'team', '/allocations')).toBe('/v1/job/batch%2Fperiodic-1/allocations?namespace=team');
    expect(jobApi('web', undefined)).toBe('/v1/job/web?namespace=default');
    expect(jobApi('web', 'dev', '/versions?diffs=true')).toBe('/v1/job/web/versions?diffs=true&namespace=dev');
  });
  it('a default-namespace link stays as before; another carries its namespace', () => {
    expect(jobHref('web', 'default')).toBe('#/job/web');
    expect(jobHref('web', 'team')).toBe('#/job/web?namespace=team');
  });
  it('parses a hash route into parts and query', () => {
    const { parts, query } = parseHash('#/job/web%2F1?namespace=team');
    expect(parts).toEqual(['job', 'web%2F1']);
    expect(query.get('namespace')).toBe('team');
    expect(parseHash('#/jobs').query.get('namespace')).toBe(null);
  });
  it('offers every namespace with a job, the default one and the one chosen, sorted', () => {
    expect(namespaceChoices([{ Namespace: 'team' }, { Namespace: 'dev' }, { Namespace: 'team' }], 'empty')).toEqual(['default', 'dev', 'empty', 'team']);
    expect(namespaceChoices([], '*')).toEqual(['default']);
  });
  it('counts allocs per job and namespace: the same id in two namespaces is two jobs', () => {
    const by = allocsByJob([{ JobID: 'web', Namespace: 'a' }, { JobID: 'web', Namespace: 'b' }, { JobID: 'web' }]);
    expect(by[jobKey('a', 'web')]).toHaveLength(1);
    expect(by[jobKey('default', 'web')]).toHaveLength(1);
  });
});
