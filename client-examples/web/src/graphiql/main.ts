// GraphiQL at /, built from the npm packages into this bundle (nothing from a CDN).
// React is used here only: the app at /app is Preact and never loads this chunk.
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import 'graphiql/style.css';
import './graphiql.css';
import { zebratFetcher } from './fetcher';
import { exampleTabs } from './examples';

const root = document.getElementById('graphiql');
if (root) {
  const endpoint = root.dataset.endpoint ?? '/graphql';
  const socket = root.dataset.subscriptionEndpoint ?? '/graphql/ws';
  // GraphiQL's menus lock scrolling with a <style> element (react-remove-scroll), which
  // takes its nonce from this global; the server puts a fresh one in the page and its CSP.
  (globalThis as { __webpack_nonce__?: string }).__webpack_nonce__ = root.dataset.styleNonce;
  createRoot(root).render(
    createElement(
      GraphiQL,
      {
        fetcher: zebratFetcher(endpoint, socket),
        defaultTabs: exampleTabs,
        defaultEditorToolsVisibility: 'headers',
      },
      createElement(
        GraphiQL.Logo,
        null,
        createElement('a', { href: '/app', className: 'zebrat-app-link', title: 'Open the web app' }, 'Zebrat'),
        ' ',
        createElement('a', { href: '/app', className: 'zebrat-app-link small' }, '→ web app'),
      ),
    ),
  );
}
