/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "mutation Deposit($amount: Decimal!, $idempotencyKey: String) {\n  deposit(input: {amount: $amount, idempotencyKey: $idempotencyKey}) {\n    cash {\n      ...CashFields\n    }\n    transaction {\n      id\n      amount\n    }\n    userErrors {\n      field\n      code\n      message\n    }\n  }\n}": typeof types.DepositDocument,
    "mutation Login($input: LoginInput!) {\n  login(input: $input) {\n    accessToken\n    refreshToken\n    user {\n      id\n      email\n      role\n    }\n    userErrors {\n      field\n      code\n      message\n    }\n  }\n}": typeof types.LoginDocument,
    "subscription OrderUpdates {\n  orderUpdates {\n    order {\n      ...OrderFields\n    }\n    trade {\n      id\n      price\n      quantity\n    }\n    cash {\n      ...CashFields\n    }\n    position {\n      ...PositionFields\n    }\n  }\n}": typeof types.OrderUpdatesDocument,
    "query Orders($first: Int!, $after: String) {\n  orders(first: $first, after: $after) {\n    totalCount\n    edges {\n      cursor\n      node {\n        ...OrderFields\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}": typeof types.OrdersDocument,
    "mutation PlaceOrder($input: PlaceOrderInput!) {\n  placeOrder(input: $input) {\n    order {\n      ...OrderFields\n    }\n    trade {\n      id\n      price\n      quantity\n    }\n    cash {\n      ...CashFields\n    }\n    position {\n      ...PositionFields\n    }\n    userErrors {\n      field\n      code\n      message\n    }\n  }\n}": typeof types.PlaceOrderDocument,
    "query Portfolio {\n  portfolio {\n    id\n    totalValue\n    positionsValue\n    dayChange\n    unrealizedPnl\n    realizedPnl\n    cash {\n      ...CashFields\n    }\n    positions {\n      ...PositionFields\n    }\n  }\n}": typeof types.PortfolioDocument,
    "query Quote($input: QuoteInput!) {\n  quote(input: $input) {\n    price\n    estimatedTotal\n    cashAfter\n    sharesAfter\n    marketOpen\n    executesNow\n    problem\n    problemCode\n  }\n}": typeof types.QuoteDocument,
    "mutation RefreshToken($token: String!) {\n  refreshToken(input: {token: $token}) {\n    accessToken\n    refreshToken\n    userErrors {\n      field\n      code\n      message\n    }\n  }\n}": typeof types.RefreshTokenDocument,
    "mutation Register($input: RegisterInput!) {\n  register(input: $input) {\n    accessToken\n    refreshToken\n    user {\n      id\n      email\n      role\n    }\n    userErrors {\n      field\n      code\n      message\n    }\n  }\n}": typeof types.RegisterDocument,
    "subscription Ticks($symbols: [String!]) {\n  ticks(symbols: $symbols) {\n    seq\n    at\n    ticks {\n      stockId\n      symbol\n      price\n      change\n      changePercent\n    }\n  }\n}": typeof types.TicksDocument,
    "query Viewer {\n  viewer {\n    id\n    email\n  }\n}": typeof types.ViewerDocument,
    "fragment CashFields on Cash {\n  id\n  balance\n  reserved\n  available\n}\n\nfragment OrderFields on Order {\n  id\n  clientOrderId\n  status\n  side\n  quantity\n  price\n  total\n  createdAt\n  rejectReason\n  stock {\n    id\n    symbol\n  }\n}\n\nfragment PositionFields on Position {\n  id\n  quantity\n  reservedQuantity\n  averageCost\n  currentPrice\n  marketValue\n  unrealizedPnl\n  stock {\n    id\n    symbol\n  }\n}": typeof types.CashFieldsFragmentDoc,
};
const documents: Documents = {
    "mutation Deposit($amount: Decimal!, $idempotencyKey: String) {\n  deposit(input: {amount: $amount, idempotencyKey: $idempotencyKey}) {\n    cash {\n      ...CashFields\n    }\n    transaction {\n      id\n      amount\n    }\n    userErrors {\n      field\n      code\n      message\n    }\n  }\n}": types.DepositDocument,
    "mutation Login($input: LoginInput!) {\n  login(input: $input) {\n    accessToken\n    refreshToken\n    user {\n      id\n      email\n      role\n    }\n    userErrors {\n      field\n      code\n      message\n    }\n  }\n}": types.LoginDocument,
    "subscription OrderUpdates {\n  orderUpdates {\n    order {\n      ...OrderFields\n    }\n    trade {\n      id\n      price\n      quantity\n    }\n    cash {\n      ...CashFields\n    }\n    position {\n      ...PositionFields\n    }\n  }\n}": types.OrderUpdatesDocument,
    "query Orders($first: Int!, $after: String) {\n  orders(first: $first, after: $after) {\n    totalCount\n    edges {\n      cursor\n      node {\n        ...OrderFields\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}": types.OrdersDocument,
    "mutation PlaceOrder($input: PlaceOrderInput!) {\n  placeOrder(input: $input) {\n    order {\n      ...OrderFields\n    }\n    trade {\n      id\n      price\n      quantity\n    }\n    cash {\n      ...CashFields\n    }\n    position {\n      ...PositionFields\n    }\n    userErrors {\n      field\n      code\n      message\n    }\n  }\n}": types.PlaceOrderDocument,
    "query Portfolio {\n  portfolio {\n    id\n    totalValue\n    positionsValue\n    dayChange\n    unrealizedPnl\n    realizedPnl\n    cash {\n      ...CashFields\n    }\n    positions {\n      ...PositionFields\n    }\n  }\n}": types.PortfolioDocument,
    "query Quote($input: QuoteInput!) {\n  quote(input: $input) {\n    price\n    estimatedTotal\n    cashAfter\n    sharesAfter\n    marketOpen\n    executesNow\n    problem\n    problemCode\n  }\n}": types.QuoteDocument,
    "mutation RefreshToken($token: String!) {\n  refreshToken(input: {token: $token}) {\n    accessToken\n    refreshToken\n    userErrors {\n      field\n      code\n      message\n    }\n  }\n}": types.RefreshTokenDocument,
    "mutation Register($input: RegisterInput!) {\n  register(input: $input) {\n    accessToken\n    refreshToken\n    user {\n      id\n      email\n      role\n    }\n    userErrors {\n      field\n      code\n      message\n    }\n  }\n}": types.RegisterDocument,
    "subscription Ticks($symbols: [String!]) {\n  ticks(symbols: $symbols) {\n    seq\n    at\n    ticks {\n      stockId\n      symbol\n      price\n      change\n      changePercent\n    }\n  }\n}": types.TicksDocument,
    "query Viewer {\n  viewer {\n    id\n    email\n  }\n}": types.ViewerDocument,
    "fragment CashFields on Cash {\n  id\n  balance\n  reserved\n  available\n}\n\nfragment OrderFields on Order {\n  id\n  clientOrderId\n  status\n  side\n  quantity\n  price\n  total\n  createdAt\n  rejectReason\n  stock {\n    id\n    symbol\n  }\n}\n\nfragment PositionFields on Position {\n  id\n  quantity\n  reservedQuantity\n  averageCost\n  currentPrice\n  marketValue\n  unrealizedPnl\n  stock {\n    id\n    symbol\n  }\n}": types.CashFieldsFragmentDoc,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation Deposit($amount: Decimal!, $idempotencyKey: String) {\n  deposit(input: {amount: $amount, idempotencyKey: $idempotencyKey}) {\n    cash {\n      ...CashFields\n    }\n    transaction {\n      id\n      amount\n    }\n    userErrors {\n      field\n      code\n      message\n    }\n  }\n}"): (typeof documents)["mutation Deposit($amount: Decimal!, $idempotencyKey: String) {\n  deposit(input: {amount: $amount, idempotencyKey: $idempotencyKey}) {\n    cash {\n      ...CashFields\n    }\n    transaction {\n      id\n      amount\n    }\n    userErrors {\n      field\n      code\n      message\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation Login($input: LoginInput!) {\n  login(input: $input) {\n    accessToken\n    refreshToken\n    user {\n      id\n      email\n      role\n    }\n    userErrors {\n      field\n      code\n      message\n    }\n  }\n}"): (typeof documents)["mutation Login($input: LoginInput!) {\n  login(input: $input) {\n    accessToken\n    refreshToken\n    user {\n      id\n      email\n      role\n    }\n    userErrors {\n      field\n      code\n      message\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription OrderUpdates {\n  orderUpdates {\n    order {\n      ...OrderFields\n    }\n    trade {\n      id\n      price\n      quantity\n    }\n    cash {\n      ...CashFields\n    }\n    position {\n      ...PositionFields\n    }\n  }\n}"): (typeof documents)["subscription OrderUpdates {\n  orderUpdates {\n    order {\n      ...OrderFields\n    }\n    trade {\n      id\n      price\n      quantity\n    }\n    cash {\n      ...CashFields\n    }\n    position {\n      ...PositionFields\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Orders($first: Int!, $after: String) {\n  orders(first: $first, after: $after) {\n    totalCount\n    edges {\n      cursor\n      node {\n        ...OrderFields\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}"): (typeof documents)["query Orders($first: Int!, $after: String) {\n  orders(first: $first, after: $after) {\n    totalCount\n    edges {\n      cursor\n      node {\n        ...OrderFields\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation PlaceOrder($input: PlaceOrderInput!) {\n  placeOrder(input: $input) {\n    order {\n      ...OrderFields\n    }\n    trade {\n      id\n      price\n      quantity\n    }\n    cash {\n      ...CashFields\n    }\n    position {\n      ...PositionFields\n    }\n    userErrors {\n      field\n      code\n      message\n    }\n  }\n}"): (typeof documents)["mutation PlaceOrder($input: PlaceOrderInput!) {\n  placeOrder(input: $input) {\n    order {\n      ...OrderFields\n    }\n    trade {\n      id\n      price\n      quantity\n    }\n    cash {\n      ...CashFields\n    }\n    position {\n      ...PositionFields\n    }\n    userErrors {\n      field\n      code\n      message\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Portfolio {\n  portfolio {\n    id\n    totalValue\n    positionsValue\n    dayChange\n    unrealizedPnl\n    realizedPnl\n    cash {\n      ...CashFields\n    }\n    positions {\n      ...PositionFields\n    }\n  }\n}"): (typeof documents)["query Portfolio {\n  portfolio {\n    id\n    totalValue\n    positionsValue\n    dayChange\n    unrealizedPnl\n    realizedPnl\n    cash {\n      ...CashFields\n    }\n    positions {\n      ...PositionFields\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Quote($input: QuoteInput!) {\n  quote(input: $input) {\n    price\n    estimatedTotal\n    cashAfter\n    sharesAfter\n    marketOpen\n    executesNow\n    problem\n    problemCode\n  }\n}"): (typeof documents)["query Quote($input: QuoteInput!) {\n  quote(input: $input) {\n    price\n    estimatedTotal\n    cashAfter\n    sharesAfter\n    marketOpen\n    executesNow\n    problem\n    problemCode\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation RefreshToken($token: String!) {\n  refreshToken(input: {token: $token}) {\n    accessToken\n    refreshToken\n    userErrors {\n      field\n      code\n      message\n    }\n  }\n}"): (typeof documents)["mutation RefreshToken($token: String!) {\n  refreshToken(input: {token: $token}) {\n    accessToken\n    refreshToken\n    userErrors {\n      field\n      code\n      message\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation Register($input: RegisterInput!) {\n  register(input: $input) {\n    accessToken\n    refreshToken\n    user {\n      id\n      email\n      role\n    }\n    userErrors {\n      field\n      code\n      message\n    }\n  }\n}"): (typeof documents)["mutation Register($input: RegisterInput!) {\n  register(input: $input) {\n    accessToken\n    refreshToken\n    user {\n      id\n      email\n      role\n    }\n    userErrors {\n      field\n      code\n      message\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription Ticks($symbols: [String!]) {\n  ticks(symbols: $symbols) {\n    seq\n    at\n    ticks {\n      stockId\n      symbol\n      price\n      change\n      changePercent\n    }\n  }\n}"): (typeof documents)["subscription Ticks($symbols: [String!]) {\n  ticks(symbols: $symbols) {\n    seq\n    at\n    ticks {\n      stockId\n      symbol\n      price\n      change\n      changePercent\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Viewer {\n  viewer {\n    id\n    email\n  }\n}"): (typeof documents)["query Viewer {\n  viewer {\n    id\n    email\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment CashFields on Cash {\n  id\n  balance\n  reserved\n  available\n}\n\nfragment OrderFields on Order {\n  id\n  clientOrderId\n  status\n  side\n  quantity\n  price\n  total\n  createdAt\n  rejectReason\n  stock {\n    id\n    symbol\n  }\n}\n\nfragment PositionFields on Position {\n  id\n  quantity\n  reservedQuantity\n  averageCost\n  currentPrice\n  marketValue\n  unrealizedPnl\n  stock {\n    id\n    symbol\n  }\n}"): (typeof documents)["fragment CashFields on Cash {\n  id\n  balance\n  reserved\n  available\n}\n\nfragment OrderFields on Order {\n  id\n  clientOrderId\n  status\n  side\n  quantity\n  price\n  total\n  createdAt\n  rejectReason\n  stock {\n    id\n    symbol\n  }\n}\n\nfragment PositionFields on Position {\n  id\n  quantity\n  reservedQuantity\n  averageCost\n  currentPrice\n  marketValue\n  unrealizedPnl\n  stock {\n    id\n    symbol\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;