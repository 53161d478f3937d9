// The documents both cache clients send, written against the issue-18 shape. Every selection of
// an entity asks for its `id`, as a screen built on a normalized cache would.
import { parse } from 'graphql';

const CASH = `fragment CashFields on Cash { id balance available reserved }`;
const POSITION = `fragment PositionFields on Position { id quantity averageCost stock { id symbol } }`;
const ORDER = `fragment OrderFields on Order { id status side quantity price total stock { id symbol } }`;
const PAGE = `fragment Page on PageInfo { hasNextPage hasPreviousPage startCursor endCursor }`;

const doc = (text, ...fragments) => parse([text, ...fragments].join('\n'));

export const CASH_Q = doc(`query Cash { cash { ...CashFields } }`, CASH);

export const PORTFOLIO_Q = doc(
  `query Portfolio { portfolio { id cash { ...CashFields } positions { ...PositionFields } } }`,
  CASH,
  POSITION,
);

export const ORDERS_Q = doc(
  `query Orders($first: Int, $status: OrderStatus) {
     orders(first: $first, status: $status) {
       totalCount
       edges { cursor node { ...OrderFields } }
       pageInfo { ...Page }
     }
   }`,
  ORDER,
  PAGE,
);

export const PLACE_ORDER_M = doc(
  `mutation PlaceOrder($input: PlaceOrderInput!) {
     placeOrder(input: $input) {
       order { ...OrderFields }
       trade { id quantity price order { id } }
       cash { ...CashFields }
       position { ...PositionFields }
       userErrors { field message code }
     }
   }`,
  ORDER,
  CASH,
  POSITION,
);

export const STOCK_Q = doc(
  `query Stock($symbol: String!) { stock(by: { symbol: $symbol }) { id symbol price change } }`,
);

export const TICKS_S = doc(
  `subscription Ticks($symbols: [String!]) {
     ticks(symbols: $symbols) { seq at stocks { id symbol price change } }
   }`,
);

export const USER_CASH_Q = doc(
  `query UserCash($id: ID!) { user(id: $id) { id email cash { ...CashFields } } }`,
  CASH,
);

export const USERS_CASH_Q = doc(
  `query UsersCash($search: String) {
     users(first: 20, search: $search) {
       totalCount
       edges { cursor node { id email cash { ...CashFields } } }
       pageInfo { ...Page }
     }
   }`,
  CASH,
  PAGE,
);

// `...NodeId` is a fragment on the interface: a cache can only match it against a concrete
// `__typename` if it knows the interface's implementations (possibleTypes / the schema).
export const NODE_Q = doc(
  `query Node($id: ID!) { node(id: $id) { __typename ...NodeId } }
   fragment NodeId on Node { id }`,
);

export const NODES_Q = doc(
  `query Nodes($ids: [ID!]!) { nodes(ids: $ids) { __typename ...NodeId } }
   fragment NodeId on Node { id }`,
);

export const STOCK_BY_NODE_Q = doc(
  `query StockByNode($id: ID!) { node(id: $id) { __typename id ... on Stock { symbol price } } }`,
);

/** Global ids of one object of every type, read over plain HTTP (see ids.mjs). */
export const CUSTOMER_IDS = `
  query CustomerIds {
    me { id }
    stocks { id symbol }
    cash { id }
    portfolio { id positions { id } }
    orders(first: 1) { nodes { id } }
    trades(first: 1) { nodes { id } }
    cashTransactions(first: 1) { nodes { id } }
    marketState { id }
    marketHours { id }
    holidays { id }
    candles(stock: { symbol: "AAPL" }, interval: D1, last: 1) { candles { id } }
  }`;

export const HOLIDAY_M = `
  mutation { addHoliday(input: { date: "2031-12-26", name: "Cache tests" }) { holiday { id } userErrors { code } } }
`;

export const ADMIN_IDS = `
  query AdminIds {
    adminStats { id }
    candleStats { id }
    auditLog(first: 1) { nodes { id } }
  }`;
