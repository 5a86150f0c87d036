// The deployment panel's logic: which controls a deployment takes, and its groups' rows.
import { describe, expect, it } from 'vitest';
import { deploymentControls, deploymentGroups, isActive } from '../../src/deployment.js';

const group = (extra = {}) => ({ DesiredTotal: 3, PlacedAllocs: 1, HealthyAllocs: 1, UnhealthyAllocs: 0, ...extra });
const actions = (d) => deploymentControls(d).map((c) => c.action);

describe('deploymentControls', () => {
  it('gives a running deployment pause and fail, and promote only while canaries wait', () => {
    expect(actions({ ID: 'd1', Status: 'running', TaskGroups: { g: group() } })).toEqual(['pause', 'fail']);
    const canary = { ID: 'd1', Status: 'running', TaskGroups: { g: group({ DesiredCanaries: 1, PlacedCanaries: ['a'] }) } };
    expect(actions(canary)).toEqual(['promote', 'pause', 'fail']);
    canary.TaskGroups.g.Promoted = true;
    expect(actions(canary)).toEqual(['pause', 'fail']);
  });
  it('gives a paused one resume and fail, never promote', () => {
    const d = { ID: 'd1', Status: 'paused', TaskGroups: { g: group({ DesiredCanaries: 1 }) } };
    expect(actions(d)).toEqual(['resume', 'fail']);
    const resume = deploymentControls(d)[0];
    expect(resume).toMatchObject({ method: 'POST', path: '/v1/deployment/pause/d1', body: { DeploymentID: 'd1', Pause: false } });
  });
  it('gives a finished deployment nothing', () => {
    for (const Status of ['successful', 'failed', 'cancelled']) {
      expect(actions({ ID: 'd', Status, TaskGroups: {} })).toEqual([]);
      expect(isActive({ Status })).toBe(false);
    }
    expect(actions(null)).toEqual([]);
  });
  it('escapes the id in the path', () => {
    expect(deploymentControls({ ID: 'a/b', Status: 'running' })[0].path).toBe('/v1/deployment/pause/a%2Fb');
  });
});

describe('deploymentGroups', () => {
  it('counts the placed canaries from their id list, sorted by group', () => {
    const rows = deploymentGroups({ TaskGroups: { web: group({ DesiredCanaries: 2, PlacedCanaries: ['x'] }), api: group() } });
    expect(rows.map((r) => r.name)).toEqual(['api', 'web']);
    expect(rows[1].canaries).toBe('1/2');
    expect(rows[0].canaries).toBe('');
    expect(rows[0]).toMatchObject({ desired: 3, placed: 1, healthy: 1, unhealthy: 0 });
  });
});
