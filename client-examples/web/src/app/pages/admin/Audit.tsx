// The audit log: every admin change with who, what, before/after, from where and when;
// paged, filtered by action and by actor.
import { useState } from 'preact/hooks';
import { useQuery } from '@urql/preact';
import { graphql } from '../../../gql';
import type { AuditAction } from '../../../gql/graphql';
import { Loading, Pager, Problems, type Cursor } from '../../components/ui';
import { problems } from '../../lib/errors';
import { timestamp } from '../../lib/format';

const AuditQuery = graphql(`
  query AuditLog($action: AuditAction, $actorId: ID, $first: Int, $after: String, $last: Int, $before: String) {
    auditLog(action: $action, actorId: $actorId, first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      nodes { id action actionName actor { id email } targetType targetId before after clientAddr createdAt }
    }
  }
`);

const AdminsQuery = graphql(`
  query AuditActors {
    users(role: ADMIN, first: 100) { nodes { id email } }
  }
`);

const ACTIONS: AuditAction[] = [
  'STOCK_CREATE', 'STOCK_UPDATE', 'USER_UPDATE', 'USER_RESET_PASSWORD', 'MARKET_HOURS_UPDATE',
  'MARKET_HOLIDAY_ADD', 'MARKET_HOLIDAY_DELETE', 'MARKET_OVERRIDE_SET', 'MARKET_OVERRIDE_CLEAR',
];
const PAGE = 20;

function json(value: unknown): string {
  return value == null ? '' : JSON.stringify(value);
}

export function AuditLog() {
  const [action, setAction] = useState<AuditAction | ''>('');
  const [actor, setActor] = useState('');
  const [cursor, setCursor] = useState<Cursor>({ first: PAGE });
  const [{ data, error, fetching }] = useQuery({
    query: AuditQuery,
    variables: { action: action || null, actorId: actor || null, ...cursor },
    requestPolicy: 'cache-and-network',
  });
  const [{ data: admins }] = useQuery({ query: AdminsQuery });
  const log = data?.auditLog;
  return (
    <>
      <h1>Audit log</h1>
      <div class="toolbar">
        <label for="audit-action">Action</label>
        <select id="audit-action" value={action} onChange={(e) => { setAction(e.currentTarget.value as AuditAction | ''); setCursor({ first: PAGE }); }}>
          <option value="">Any</option>
          {ACTIONS.map((a) => <option key={a} value={a}>{a}</option>)}
        </select>
        <label for="audit-actor">Actor</label>
        <select id="audit-actor" value={actor} onChange={(e) => { setActor(e.currentTarget.value); setCursor({ first: PAGE }); }}>
          <option value="">Anyone</option>
          {(admins?.users.nodes ?? []).map((u) => <option key={u.id} value={u.id}>{u.email}</option>)}
        </select>
      </div>
      <Problems list={problems(error)} />
      {fetching && !data ? <Loading what="the audit log" /> : null}
      {log && log.nodes.length === 0 ? <p class="muted">Nothing recorded{action || actor ? ' for this filter' : ''}.</p> : null}
      {log && log.nodes.length > 0 ? (
        <div class="table-wrap">
          <table class="audit">
            <thead><tr><th>When</th><th>Action</th><th>Actor</th><th>Target</th><th>Before</th><th>After</th><th>From</th></tr></thead>
            <tbody>
              {log.nodes.map((e) => (
                <tr key={e.id} data-action={e.action ?? e.actionName}>
                  <td class="small">{timestamp(e.createdAt)}</td>
                  <td>{e.action ?? e.actionName}</td>
                  <td>{e.actor?.email ?? '—'}</td>
                  <td class="small">{e.targetType}{e.targetId ? ` ${e.targetId}` : ''}</td>
                  <td class="small json">{json(e.before)}</td>
                  <td class="small json">{json(e.after)}</td>
                  <td class="small">{e.clientAddr ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <Pager label="Audit pages" pageInfo={log?.pageInfo} total={log?.totalCount} size={PAGE} onPage={setCursor} />
    </>
  );
}
