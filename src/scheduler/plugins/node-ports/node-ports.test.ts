import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerPort, Pod } from '../../../api/generated/types/core-v1.js';
import { makeNode, makePod, pluginFor, runFilter } from '../../testing.js';
import { newNodePorts } from './node-ports.js';

const withPorts = (name: string, ports: ContainerPort[], node?: string): Pod =>
  makePod(name, { node, spec: { containers: [{ name: 'c', ports }] } });
const REJECT = "Unschedulable: node(s) didn't have free ports for the requested pod ports";

describe('NodePorts', () => {
  const cases: { name: string; existing: ContainerPort[]; wanted: ContainerPort[]; want: string }[] = [
    {
      name: 'no host ports',
      existing: [{ containerPort: 80, hostPort: 80 }],
      wanted: [{ containerPort: 80 }],
      want: '',
    },
    {
      name: 'same port',
      existing: [{ containerPort: 80, hostPort: 8080 }],
      wanted: [{ containerPort: 81, hostPort: 8080 }],
      want: REJECT,
    },
    {
      name: 'other protocol',
      existing: [{ containerPort: 53, hostPort: 53, protocol: 'UDP' }],
      wanted: [{ containerPort: 53, hostPort: 53 }],
      want: '',
    },
    {
      name: 'distinct ips',
      existing: [{ containerPort: 80, hostPort: 80, hostIP: '10.0.0.1' }],
      wanted: [{ containerPort: 80, hostPort: 80, hostIP: '10.0.0.2' }],
      want: '',
    },
    {
      name: 'wildcard wanted conflicts with any ip',
      existing: [{ containerPort: 80, hostPort: 80, hostIP: '10.0.0.1' }],
      wanted: [{ containerPort: 80, hostPort: 80 }],
      want: REJECT,
    },
    {
      name: 'specific ip conflicts with existing wildcard',
      existing: [{ containerPort: 80, hostPort: 80, hostIP: '0.0.0.0' }],
      wanted: [{ containerPort: 80, hostPort: 80, hostIP: '127.0.0.1' }],
      want: REJECT,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { plugin, snapshot } = pluginFor(
        newNodePorts,
        [makeNode('n1')],
        [withPorts('old', c.existing, 'n1')],
      );
      assert.equal(runFilter(plugin, withPorts('new', c.wanted), snapshot).byNode.get('n1'), c.want);
    });
  }
});
