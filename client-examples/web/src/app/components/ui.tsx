// Small building blocks shared by the screens.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { BASE, navigate } from '../lib/router';
import type { Problem } from '../lib/errors';
import { direction } from '../lib/format';

type LinkProps = {
  to: string;
  class?: string;
  title?: string;
  children?: ComponentChildren;
  'aria-label'?: string;
  'aria-current'?: 'page';
};

/** An in-app link: a real URL, followed without reloading the page. */
export function Link(props: LinkProps) {
  const { to, ...rest } = props;
  return (
    <a
      {...rest}
      href={BASE + to}
      onClick={(e) => {
        if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(to);
      }}
    />
  );
}

/** A labelled input with its own error below it (wired with aria-describedby). */
export function Field(props: {
  id: string;
  label: string;
  problem?: Problem;
  hint?: string;
  children: (attrs: { id: string; 'aria-invalid': boolean; 'aria-describedby'?: string }) => ComponentChildren;
}) {
  const described = props.problem ? `${props.id}-error` : props.hint ? `${props.id}-hint` : undefined;
  return (
    <div class={'field' + (props.problem ? ' invalid' : '')}>
      <label for={props.id}>{props.label}</label>
      {props.children({ id: props.id, 'aria-invalid': !!props.problem, 'aria-describedby': described })}
      {props.problem ? (
        <p class="field-error" id={`${props.id}-error`} data-code={props.problem.code}>
          {props.problem.message}
        </p>
      ) : props.hint ? (
        <p class="hint" id={`${props.id}-hint`}>{props.hint}</p>
      ) : null}
    </div>
  );
}

/** Problems that belong to the whole action rather than one field. */
export function Problems(props: { list: Problem[] }) {
  if (props.list.length === 0) return null;
  return (
    <div class="alert error" role="alert">
      {props.list.map((p, i) => (
        <p key={i} data-code={p.code}>{p.message}</p>
      ))}
    </div>
  );
}

export function Success(props: { children: ComponentChildren }) {
  return <div class="alert success" role="status">{props.children}</div>;
}

export function Change(props: { value: string | null | undefined; children: ComponentChildren }) {
  return <span class={'change ' + direction(props.value)}>{props.children}</span>;
}

export function Loading(props: { what?: string }) {
  return <p class="muted" aria-busy="true">Loading{props.what ? ' ' + props.what : ''}…</p>;
}

type PageInfo = { hasNextPage: boolean; hasPreviousPage: boolean; startCursor?: string | null; endCursor?: string | null };
export type Cursor = { first?: number; after?: string; last?: number; before?: string };

/** Previous / next over a cursor connection (newest first). */
export function Pager(props: { pageInfo?: PageInfo; total?: number; size: number; onPage: (c: Cursor) => void; label: string }) {
  const info = props.pageInfo;
  if (!info) return null;
  return (
    <nav class="pager" aria-label={props.label}>
      <button
        type="button"
        disabled={!info.hasPreviousPage}
        onClick={() => props.onPage({ last: props.size, before: info.startCursor ?? undefined })}
      >
        ← Newer
      </button>
      {props.total != null ? <span class="muted">{props.total} in all</span> : null}
      <button
        type="button"
        disabled={!info.hasNextPage}
        onClick={() => props.onPage({ first: props.size, after: info.endCursor ?? undefined })}
      >
        Older →
      </button>
    </nav>
  );
}

/** A modal dialog: labelled by its title, Escape or the backdrop closes it, focus starts inside. */
export function Dialog(props: { title: string; onClose: () => void; children: ComponentChildren }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    box.current?.querySelector<HTMLElement>('input, select, textarea, button')?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') props.onClose();
    };
    addEventListener('keydown', onKey);
    return () => {
      removeEventListener('keydown', onKey);
      before?.focus();
    };
  }, []);
  const id = 'dialog-' + props.title.replace(/\W+/g, '-').toLowerCase();
  return (
    <div class="backdrop" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class="dialog" role="dialog" aria-modal="true" aria-labelledby={id} ref={box}>
        <h2 id={id}>{props.title}</h2>
        {props.children}
      </div>
    </div>
  );
}
