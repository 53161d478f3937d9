/* eslint-disable */
import * as types from './graphql';
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
    "\n  fragment MarketStateFields on MarketState {\n    id\n    isOpen\n    emergency\n    reason\n    nextOpen\n    nextClose\n    timezone\n  }\n": typeof types.MarketStateFieldsFragmentDoc,
    "\n  query MarketStateNow {\n    marketState { ...MarketStateFields }\n  }\n": typeof types.MarketStateNowDocument,
    "\n  subscription MarketStateFeed {\n    marketState { ...MarketStateFields }\n  }\n": typeof types.MarketStateFeedDocument,
    "\n  fragment OrderFields on Order {\n    id\n    clientOrderId\n    status\n    side\n    quantity\n    type\n    timeInForce\n    limitPrice\n    stopPrice\n    trailPercent\n    trailAmount\n    price\n    total\n    rejectReason\n    reserved { cash shares }\n    replacedBy { id }\n    createdAt\n    updatedAt\n    executedAt\n    triggeredAt\n    expiresAt\n    canceledAt\n    stock { id symbol name }\n  }\n": typeof types.OrderFieldsFragmentDoc,
    "\n  fragment PositionFields on Position {\n    id\n    quantity\n    reservedQuantity\n    averageCost\n    currentPrice\n    marketValue\n    unrealizedPnl\n    unrealizedPnlPercent\n    realizedPnl\n    stock { id symbol name }\n  }\n": typeof types.PositionFieldsFragmentDoc,
    "\n  subscription OrderUpdates {\n    orderUpdates {\n      order { ...OrderFields }\n      trade { id price quantity total executedAt }\n      cash { id balance reserved available }\n      position { ...PositionFields }\n    }\n  }\n": typeof types.OrderUpdatesDocument,
    "\n  fragment ViewerFields on User {\n    id\n    email\n    name\n    role\n  }\n": typeof types.ViewerFieldsFragmentDoc,
    "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      accessToken\n      refreshToken\n      user { ...ViewerFields }\n      userErrors { field message code }\n    }\n  }\n": typeof types.LoginDocument,
    "\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      accessToken\n      refreshToken\n      user { ...ViewerFields }\n      userErrors { field message code }\n    }\n  }\n": typeof types.RegisterDocument,
    "\n  mutation RefreshToken($input: RefreshTokenInput!) {\n    refreshToken(input: $input) {\n      accessToken\n      refreshToken\n      user { ...ViewerFields }\n      userErrors { field message code }\n    }\n  }\n": typeof types.RefreshTokenDocument,
    "\n  mutation ChangePassword($input: ChangePasswordInput!) {\n    changePassword(input: $input) {\n      accessToken\n      refreshToken\n      user { ...ViewerFields }\n      userErrors { field message code }\n    }\n  }\n": typeof types.ChangePasswordDocument,
    "\n  mutation Logout($input: LogoutInput!) {\n    logout(input: $input) { revoked userErrors { code message } }\n  }\n": typeof types.LogoutDocument,
    "\n  query CashPage($first: Int, $after: String, $last: Int, $before: String) {\n    cash { id balance reserved available }\n    cashTransactions(first: $first, after: $after, last: $last, before: $before) {\n      totalCount\n      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n      nodes { id type amount balanceAfter reference createdAt order { id } }\n    }\n  }\n": typeof types.CashPageDocument,
    "\n  mutation Deposit($input: CashInput!) {\n    deposit(input: $input) {\n      cash { id balance reserved available }\n      userErrors { field message code }\n    }\n  }\n": typeof types.DepositDocument,
    "\n  mutation Withdraw($input: CashInput!) {\n    withdraw(input: $input) {\n      cash { id balance reserved available }\n      userErrors { field message code }\n    }\n  }\n": typeof types.WithdrawDocument,
    "\n  fragment PortfolioHistoryPointFields on PortfolioHistoryPoint {\n    at\n    equity\n    cash\n    positionsValue\n    profitLoss\n    profitLossPercent\n    live\n  }\n": typeof types.PortfolioHistoryPointFieldsFragmentDoc,
    "\n  query PortfolioHistory($period: HistoryPeriod!) {\n    portfolioHistory(period: $period) {\n      period\n      interval\n      baseValue\n      baseAt\n      points { ...PortfolioHistoryPointFields }\n    }\n  }\n": typeof types.PortfolioHistoryDocument,
    "\n  subscription PortfolioHistoryFeed($period: HistoryPeriod!, $interval: HistoryInterval!) {\n    portfolioHistory(period: $period, interval: $interval) { ...PortfolioHistoryPointFields }\n  }\n": typeof types.PortfolioHistoryFeedDocument,
    "\n  fragment LeaderboardFields on Leaderboard {\n    period\n    asOf\n    totalCount\n    nodes { rank name returnPercent equity isViewer }\n    pageInfo { hasNextPage endCursor }\n  }\n": typeof types.LeaderboardFieldsFragmentDoc,
    "\n  query LeaderboardPage($period: HistoryPeriod!, $first: Int, $after: String) {\n    leaderboard(period: $period, first: $first, after: $after) { ...LeaderboardFields }\n  }\n": typeof types.LeaderboardPageDocument,
    "\n  subscription LeaderboardFeed($period: HistoryPeriod!) {\n    leaderboard(period: $period) { ...LeaderboardFields }\n  }\n": typeof types.LeaderboardFeedDocument,
    "\n  query LeaderboardName {\n    me { id leaderboardName }\n  }\n": typeof types.LeaderboardNameDocument,
    "\n  mutation UpdateLeaderboardName($input: UpdateMeInput!) {\n    updateMe(input: $input) {\n      user { id leaderboardName }\n      userErrors { code field message }\n    }\n  }\n": typeof types.UpdateLeaderboardNameDocument,
    "\n  query Market {\n    stocks { id symbol name price change changePercent trend active }\n  }\n": typeof types.MarketDocument,
    "\n  subscription MarketTicks {\n    ticks {\n      seq\n      at\n      stocks { id price change changePercent high low updatedAt }\n    }\n  }\n": typeof types.MarketTicksDocument,
    "\n  mutation ReplaceOrder($input: ReplaceOrderInput!) {\n    replaceOrder(input: $input) {\n      order { ...OrderFields }\n      replacedOrder { ...OrderFields }\n      cash { id balance reserved available }\n      position { ...PositionFields }\n      userErrors { field message code }\n    }\n  }\n": typeof types.ReplaceOrderDocument,
    "\n  query ModifyMarketOpen {\n    marketState { id isOpen }\n  }\n": typeof types.ModifyMarketOpenDocument,
    "\n  query Orders($status: OrderStatus, $first: Int, $after: String, $last: Int, $before: String) {\n    orders(status: $status, first: $first, after: $after, last: $last, before: $before) {\n      totalCount\n      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n      nodes { ...OrderFields }\n    }\n  }\n": typeof types.OrdersDocument,
    "\n  mutation CancelOrder($input: CancelOrderInput!) {\n    cancelOrder(input: $input) {\n      order { ...OrderFields }\n      cash { id balance reserved available }\n      position { ...PositionFields }\n      userErrors { field message code }\n    }\n  }\n": typeof types.CancelOrderDocument,
    "\n  fragment PortfolioFields on Portfolio {\n    id\n    totalValue\n    positionsValue\n    dayChange\n    unrealizedPnl\n    realizedPnl\n    updatedAt\n    cash { id balance reserved available }\n    positions { ...PositionFields }\n  }\n": typeof types.PortfolioFieldsFragmentDoc,
    "\n  query PortfolioPage {\n    portfolio { ...PortfolioFields }\n  }\n": typeof types.PortfolioPageDocument,
    "\n  subscription PortfolioFeed {\n    portfolio { ...PortfolioFields }\n  }\n": typeof types.PortfolioFeedDocument,
    "\n  query StockPage($symbol: String!) {\n    stock(by: { symbol: $symbol }) {\n      id symbol name price change changePercent open high low previousClose active updatedAt\n    }\n  }\n": typeof types.StockPageDocument,
    "\n  query StockCandles($symbol: String!, $interval: CandleInterval!) {\n    candles(stock: { symbol: $symbol }, interval: $interval, last: 150) {\n      truncated\n      candles { id bucketStart open high low close isFinal }\n    }\n  }\n": typeof types.StockCandlesDocument,
    "\n  subscription LiveCandle($symbol: String!, $interval: CandleInterval!) {\n    liveCandle(stocks: [{ symbol: $symbol }], interval: $interval) {\n      id bucketStart open high low close isFinal\n      stock { id price change changePercent open high low updatedAt }\n    }\n  }\n": typeof types.LiveCandleDocument,
    "\n  query Quote($input: QuoteInput!) {\n    quote(input: $input) {\n      price estimatedTotal cashAfter sharesAfter marketOpen executesNow problem problemCode\n    }\n  }\n": typeof types.QuoteDocument,
    "\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) {\n      order { ...OrderFields }\n      trade { id price quantity total executedAt }\n      cash { id balance reserved available }\n      position { ...PositionFields }\n      userErrors { field message code }\n    }\n  }\n": typeof types.PlaceOrderDocument,
    "\n  query TicketMarketOpen {\n    marketState { id isOpen }\n  }\n": typeof types.TicketMarketOpenDocument,
    "\n  query AuditLog($action: AuditAction, $actorId: ID, $first: Int, $after: String, $last: Int, $before: String) {\n    auditLog(action: $action, actorId: $actorId, first: $first, after: $after, last: $last, before: $before) {\n      totalCount\n      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n      nodes { id action actionName actor { id email } targetType targetId before after clientAddr createdAt }\n    }\n  }\n": typeof types.AuditLogDocument,
    "\n  query AuditActors {\n    users(role: ADMIN, first: 100) { nodes { id email } }\n  }\n": typeof types.AuditActorsDocument,
    "\n  query CandleStats {\n    candleStats { id interval count firstBucket lastBucket gaps stock { id symbol } }\n  }\n": typeof types.CandleStatsDocument,
    "\n  query AdminMarket {\n    marketState { ...MarketStateFields }\n    marketHours { id day open close closed }\n    holidays { id date name kind closeTime }\n  }\n": typeof types.AdminMarketDocument,
    "\n  query AdminMarketCalendar($from: Date!, $to: Date!) {\n    marketCalendar(from: $from, to: $to) { date kind closeTime name source holiday { id } }\n  }\n": typeof types.AdminMarketCalendarDocument,
    "\n  mutation UpdateMarketHours($input: MarketHoursInput!) {\n    updateMarketHours(input: $input) {\n      marketDay { id day open close closed }\n      marketState { ...MarketStateFields }\n      userErrors { field message code }\n    }\n  }\n": typeof types.UpdateMarketHoursDocument,
    "\n  mutation AddHoliday($input: HolidayInput!) {\n    addHoliday(input: $input) {\n      holiday { id date name kind closeTime }\n      marketState { ...MarketStateFields }\n      userErrors { field message code }\n    }\n  }\n": typeof types.AddHolidayDocument,
    "\n  mutation DeleteHoliday($input: DeleteHolidayInput!) {\n    deleteHoliday(input: $input) {\n      holiday { id }\n      marketState { ...MarketStateFields }\n      userErrors { field message code }\n    }\n  }\n": typeof types.DeleteHolidayDocument,
    "\n  mutation SetMarketOverride($input: MarketOverrideInput!) {\n    setMarketOverride(input: $input) {\n      marketState { ...MarketStateFields }\n      userErrors { field message code }\n    }\n  }\n": typeof types.SetMarketOverrideDocument,
    "\n  mutation ClearMarketOverride {\n    clearMarketOverride {\n      marketState { ...MarketStateFields }\n      userErrors { field message code }\n    }\n  }\n": typeof types.ClearMarketOverrideDocument,
    "\n  fragment StatsFields on AdminStats {\n    id\n    at\n    totalUsers\n    activeUsers\n    openConnections\n    openSubscriptions\n    ordersToday\n    tradedValueToday\n    queuedOrders\n  }\n": typeof types.StatsFieldsFragmentDoc,
    "\n  query AdminStatsNow {\n    adminStats { ...StatsFields }\n  }\n": typeof types.AdminStatsNowDocument,
    "\n  subscription AdminStatsFeed {\n    adminStats { ...StatsFields }\n  }\n": typeof types.AdminStatsFeedDocument,
    "\n  query AdminStocks {\n    adminStocks { id databaseId symbol name price changePercent active updatedAt }\n  }\n": typeof types.AdminStocksDocument,
    "\n  mutation CreateStock($input: CreateStockInput!) {\n    createStock(input: $input) {\n      stock { id databaseId symbol name price changePercent active updatedAt }\n      userErrors { field message code }\n    }\n  }\n": typeof types.CreateStockDocument,
    "\n  mutation UpdateStock($input: UpdateStockInput!) {\n    updateStock(input: $input) {\n      stock { id symbol name active price updatedAt }\n      userErrors { field message code }\n    }\n  }\n": typeof types.UpdateStockDocument,
    "\n  query AdminUsers($search: String, $role: Role, $active: Boolean, $first: Int, $after: String, $last: Int, $before: String) {\n    users(search: $search, role: $role, active: $active, first: $first, after: $after, last: $last, before: $before) {\n      totalCount\n      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n      nodes { id email name role active createdAt lastSeenAt cash { id balance } }\n    }\n  }\n": typeof types.AdminUsersDocument,
    "\n  query AdminUser($id: ID!, $orderStatus: OrderStatus) {\n    user(id: $id) {\n      id databaseId email name role active createdAt lastSeenAt\n      cash { id balance reserved available }\n      portfolio { id totalValue unrealizedPnl realizedPnl positions { ...PositionFields } }\n      orders(first: 20, status: $orderStatus) { totalCount nodes { ...OrderFields } }\n    }\n  }\n": typeof types.AdminUserDocument,
    "\n  mutation UpdateUser($input: UpdateUserInput!) {\n    updateUser(input: $input) {\n      user { id email name role active }\n      userErrors { field message code }\n    }\n  }\n": typeof types.UpdateUserDocument,
    "\n  mutation ResetUserPassword($input: ResetUserPasswordInput!) {\n    resetUserPassword(input: $input) {\n      user { id }\n      temporaryPassword\n      userErrors { field message code }\n    }\n  }\n": typeof types.ResetUserPasswordDocument,
    "\n  mutation CancelUserOrder($input: CancelUserOrderInput!) {\n    cancelUserOrder(input: $input) {\n      order { ...OrderFields }\n      userErrors { field message code }\n    }\n  }\n": typeof types.CancelUserOrderDocument,
};
const documents: Documents = {
    "\n  fragment MarketStateFields on MarketState {\n    id\n    isOpen\n    emergency\n    reason\n    nextOpen\n    nextClose\n    timezone\n  }\n": types.MarketStateFieldsFragmentDoc,
    "\n  query MarketStateNow {\n    marketState { ...MarketStateFields }\n  }\n": types.MarketStateNowDocument,
    "\n  subscription MarketStateFeed {\n    marketState { ...MarketStateFields }\n  }\n": types.MarketStateFeedDocument,
    "\n  fragment OrderFields on Order {\n    id\n    clientOrderId\n    status\n    side\n    quantity\n    type\n    timeInForce\n    limitPrice\n    stopPrice\n    trailPercent\n    trailAmount\n    price\n    total\n    rejectReason\n    reserved { cash shares }\n    replacedBy { id }\n    createdAt\n    updatedAt\n    executedAt\n    triggeredAt\n    expiresAt\n    canceledAt\n    stock { id symbol name }\n  }\n": types.OrderFieldsFragmentDoc,
    "\n  fragment PositionFields on Position {\n    id\n    quantity\n    reservedQuantity\n    averageCost\n    currentPrice\n    marketValue\n    unrealizedPnl\n    unrealizedPnlPercent\n    realizedPnl\n    stock { id symbol name }\n  }\n": types.PositionFieldsFragmentDoc,
    "\n  subscription OrderUpdates {\n    orderUpdates {\n      order { ...OrderFields }\n      trade { id price quantity total executedAt }\n      cash { id balance reserved available }\n      position { ...PositionFields }\n    }\n  }\n": types.OrderUpdatesDocument,
    "\n  fragment ViewerFields on User {\n    id\n    email\n    name\n    role\n  }\n": types.ViewerFieldsFragmentDoc,
    "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      accessToken\n      refreshToken\n      user { ...ViewerFields }\n      userErrors { field message code }\n    }\n  }\n": types.LoginDocument,
    "\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      accessToken\n      refreshToken\n      user { ...ViewerFields }\n      userErrors { field message code }\n    }\n  }\n": types.RegisterDocument,
    "\n  mutation RefreshToken($input: RefreshTokenInput!) {\n    refreshToken(input: $input) {\n      accessToken\n      refreshToken\n      user { ...ViewerFields }\n      userErrors { field message code }\n    }\n  }\n": types.RefreshTokenDocument,
    "\n  mutation ChangePassword($input: ChangePasswordInput!) {\n    changePassword(input: $input) {\n      accessToken\n      refreshToken\n      user { ...ViewerFields }\n      userErrors { field message code }\n    }\n  }\n": types.ChangePasswordDocument,
    "\n  mutation Logout($input: LogoutInput!) {\n    logout(input: $input) { revoked userErrors { code message } }\n  }\n": types.LogoutDocument,
    "\n  query CashPage($first: Int, $after: String, $last: Int, $before: String) {\n    cash { id balance reserved available }\n    cashTransactions(first: $first, after: $after, last: $last, before: $before) {\n      totalCount\n      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n      nodes { id type amount balanceAfter reference createdAt order { id } }\n    }\n  }\n": types.CashPageDocument,
    "\n  mutation Deposit($input: CashInput!) {\n    deposit(input: $input) {\n      cash { id balance reserved available }\n      userErrors { field message code }\n    }\n  }\n": types.DepositDocument,
    "\n  mutation Withdraw($input: CashInput!) {\n    withdraw(input: $input) {\n      cash { id balance reserved available }\n      userErrors { field message code }\n    }\n  }\n": types.WithdrawDocument,
    "\n  fragment PortfolioHistoryPointFields on PortfolioHistoryPoint {\n    at\n    equity\n    cash\n    positionsValue\n    profitLoss\n    profitLossPercent\n    live\n  }\n": types.PortfolioHistoryPointFieldsFragmentDoc,
    "\n  query PortfolioHistory($period: HistoryPeriod!) {\n    portfolioHistory(period: $period) {\n      period\n      interval\n      baseValue\n      baseAt\n      points { ...PortfolioHistoryPointFields }\n    }\n  }\n": types.PortfolioHistoryDocument,
    "\n  subscription PortfolioHistoryFeed($period: HistoryPeriod!, $interval: HistoryInterval!) {\n    portfolioHistory(period: $period, interval: $interval) { ...PortfolioHistoryPointFields }\n  }\n": types.PortfolioHistoryFeedDocument,
    "\n  fragment LeaderboardFields on Leaderboard {\n    period\n    asOf\n    totalCount\n    nodes { rank name returnPercent equity isViewer }\n    pageInfo { hasNextPage endCursor }\n  }\n": types.LeaderboardFieldsFragmentDoc,
    "\n  query LeaderboardPage($period: HistoryPeriod!, $first: Int, $after: String) {\n    leaderboard(period: $period, first: $first, after: $after) { ...LeaderboardFields }\n  }\n": types.LeaderboardPageDocument,
    "\n  subscription LeaderboardFeed($period: HistoryPeriod!) {\n    leaderboard(period: $period) { ...LeaderboardFields }\n  }\n": types.LeaderboardFeedDocument,
    "\n  query LeaderboardName {\n    me { id leaderboardName }\n  }\n": types.LeaderboardNameDocument,
    "\n  mutation UpdateLeaderboardName($input: UpdateMeInput!) {\n    updateMe(input: $input) {\n      user { id leaderboardName }\n      userErrors { code field message }\n    }\n  }\n": types.UpdateLeaderboardNameDocument,
    "\n  query Market {\n    stocks { id symbol name price change changePercent trend active }\n  }\n": types.MarketDocument,
    "\n  subscription MarketTicks {\n    ticks {\n      seq\n      at\n      stocks { id price change changePercent high low updatedAt }\n    }\n  }\n": types.MarketTicksDocument,
    "\n  mutation ReplaceOrder($input: ReplaceOrderInput!) {\n    replaceOrder(input: $input) {\n      order { ...OrderFields }\n      replacedOrder { ...OrderFields }\n      cash { id balance reserved available }\n      position { ...PositionFields }\n      userErrors { field message code }\n    }\n  }\n": types.ReplaceOrderDocument,
    "\n  query ModifyMarketOpen {\n    marketState { id isOpen }\n  }\n": types.ModifyMarketOpenDocument,
    "\n  query Orders($status: OrderStatus, $first: Int, $after: String, $last: Int, $before: String) {\n    orders(status: $status, first: $first, after: $after, last: $last, before: $before) {\n      totalCount\n      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n      nodes { ...OrderFields }\n    }\n  }\n": types.OrdersDocument,
    "\n  mutation CancelOrder($input: CancelOrderInput!) {\n    cancelOrder(input: $input) {\n      order { ...OrderFields }\n      cash { id balance reserved available }\n      position { ...PositionFields }\n      userErrors { field message code }\n    }\n  }\n": types.CancelOrderDocument,
    "\n  fragment PortfolioFields on Portfolio {\n    id\n    totalValue\n    positionsValue\n    dayChange\n    unrealizedPnl\n    realizedPnl\n    updatedAt\n    cash { id balance reserved available }\n    positions { ...PositionFields }\n  }\n": types.PortfolioFieldsFragmentDoc,
    "\n  query PortfolioPage {\n    portfolio { ...PortfolioFields }\n  }\n": types.PortfolioPageDocument,
    "\n  subscription PortfolioFeed {\n    portfolio { ...PortfolioFields }\n  }\n": types.PortfolioFeedDocument,
    "\n  query StockPage($symbol: String!) {\n    stock(by: { symbol: $symbol }) {\n      id symbol name price change changePercent open high low previousClose active updatedAt\n    }\n  }\n": types.StockPageDocument,
    "\n  query StockCandles($symbol: String!, $interval: CandleInterval!) {\n    candles(stock: { symbol: $symbol }, interval: $interval, last: 150) {\n      truncated\n      candles { id bucketStart open high low close isFinal }\n    }\n  }\n": types.StockCandlesDocument,
    "\n  subscription LiveCandle($symbol: String!, $interval: CandleInterval!) {\n    liveCandle(stocks: [{ symbol: $symbol }], interval: $interval) {\n      id bucketStart open high low close isFinal\n      stock { id price change changePercent open high low updatedAt }\n    }\n  }\n": types.LiveCandleDocument,
    "\n  query Quote($input: QuoteInput!) {\n    quote(input: $input) {\n      price estimatedTotal cashAfter sharesAfter marketOpen executesNow problem problemCode\n    }\n  }\n": types.QuoteDocument,
    "\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) {\n      order { ...OrderFields }\n      trade { id price quantity total executedAt }\n      cash { id balance reserved available }\n      position { ...PositionFields }\n      userErrors { field message code }\n    }\n  }\n": types.PlaceOrderDocument,
    "\n  query TicketMarketOpen {\n    marketState { id isOpen }\n  }\n": types.TicketMarketOpenDocument,
    "\n  query AuditLog($action: AuditAction, $actorId: ID, $first: Int, $after: String, $last: Int, $before: String) {\n    auditLog(action: $action, actorId: $actorId, first: $first, after: $after, last: $last, before: $before) {\n      totalCount\n      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n      nodes { id action actionName actor { id email } targetType targetId before after clientAddr createdAt }\n    }\n  }\n": types.AuditLogDocument,
    "\n  query AuditActors {\n    users(role: ADMIN, first: 100) { nodes { id email } }\n  }\n": types.AuditActorsDocument,
    "\n  query CandleStats {\n    candleStats { id interval count firstBucket lastBucket gaps stock { id symbol } }\n  }\n": types.CandleStatsDocument,
    "\n  query AdminMarket {\n    marketState { ...MarketStateFields }\n    marketHours { id day open close closed }\n    holidays { id date name kind closeTime }\n  }\n": types.AdminMarketDocument,
    "\n  query AdminMarketCalendar($from: Date!, $to: Date!) {\n    marketCalendar(from: $from, to: $to) { date kind closeTime name source holiday { id } }\n  }\n": types.AdminMarketCalendarDocument,
    "\n  mutation UpdateMarketHours($input: MarketHoursInput!) {\n    updateMarketHours(input: $input) {\n      marketDay { id day open close closed }\n      marketState { ...MarketStateFields }\n      userErrors { field message code }\n    }\n  }\n": types.UpdateMarketHoursDocument,
    "\n  mutation AddHoliday($input: HolidayInput!) {\n    addHoliday(input: $input) {\n      holiday { id date name kind closeTime }\n      marketState { ...MarketStateFields }\n      userErrors { field message code }\n    }\n  }\n": types.AddHolidayDocument,
    "\n  mutation DeleteHoliday($input: DeleteHolidayInput!) {\n    deleteHoliday(input: $input) {\n      holiday { id }\n      marketState { ...MarketStateFields }\n      userErrors { field message code }\n    }\n  }\n": types.DeleteHolidayDocument,
    "\n  mutation SetMarketOverride($input: MarketOverrideInput!) {\n    setMarketOverride(input: $input) {\n      marketState { ...MarketStateFields }\n      userErrors { field message code }\n    }\n  }\n": types.SetMarketOverrideDocument,
    "\n  mutation ClearMarketOverride {\n    clearMarketOverride {\n      marketState { ...MarketStateFields }\n      userErrors { field message code }\n    }\n  }\n": types.ClearMarketOverrideDocument,
    "\n  fragment StatsFields on AdminStats {\n    id\n    at\n    totalUsers\n    activeUsers\n    openConnections\n    openSubscriptions\n    ordersToday\n    tradedValueToday\n    queuedOrders\n  }\n": types.StatsFieldsFragmentDoc,
    "\n  query AdminStatsNow {\n    adminStats { ...StatsFields }\n  }\n": types.AdminStatsNowDocument,
    "\n  subscription AdminStatsFeed {\n    adminStats { ...StatsFields }\n  }\n": types.AdminStatsFeedDocument,
    "\n  query AdminStocks {\n    adminStocks { id databaseId symbol name price changePercent active updatedAt }\n  }\n": types.AdminStocksDocument,
    "\n  mutation CreateStock($input: CreateStockInput!) {\n    createStock(input: $input) {\n      stock { id databaseId symbol name price changePercent active updatedAt }\n      userErrors { field message code }\n    }\n  }\n": types.CreateStockDocument,
    "\n  mutation UpdateStock($input: UpdateStockInput!) {\n    updateStock(input: $input) {\n      stock { id symbol name active price updatedAt }\n      userErrors { field message code }\n    }\n  }\n": types.UpdateStockDocument,
    "\n  query AdminUsers($search: String, $role: Role, $active: Boolean, $first: Int, $after: String, $last: Int, $before: String) {\n    users(search: $search, role: $role, active: $active, first: $first, after: $after, last: $last, before: $before) {\n      totalCount\n      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n      nodes { id email name role active createdAt lastSeenAt cash { id balance } }\n    }\n  }\n": types.AdminUsersDocument,
    "\n  query AdminUser($id: ID!, $orderStatus: OrderStatus) {\n    user(id: $id) {\n      id databaseId email name role active createdAt lastSeenAt\n      cash { id balance reserved available }\n      portfolio { id totalValue unrealizedPnl realizedPnl positions { ...PositionFields } }\n      orders(first: 20, status: $orderStatus) { totalCount nodes { ...OrderFields } }\n    }\n  }\n": types.AdminUserDocument,
    "\n  mutation UpdateUser($input: UpdateUserInput!) {\n    updateUser(input: $input) {\n      user { id email name role active }\n      userErrors { field message code }\n    }\n  }\n": types.UpdateUserDocument,
    "\n  mutation ResetUserPassword($input: ResetUserPasswordInput!) {\n    resetUserPassword(input: $input) {\n      user { id }\n      temporaryPassword\n      userErrors { field message code }\n    }\n  }\n": types.ResetUserPasswordDocument,
    "\n  mutation CancelUserOrder($input: CancelUserOrderInput!) {\n    cancelUserOrder(input: $input) {\n      order { ...OrderFields }\n      userErrors { field message code }\n    }\n  }\n": types.CancelUserOrderDocument,
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
export function graphql(source: "\n  fragment MarketStateFields on MarketState {\n    id\n    isOpen\n    emergency\n    reason\n    nextOpen\n    nextClose\n    timezone\n  }\n"): (typeof documents)["\n  fragment MarketStateFields on MarketState {\n    id\n    isOpen\n    emergency\n    reason\n    nextOpen\n    nextClose\n    timezone\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MarketStateNow {\n    marketState { ...MarketStateFields }\n  }\n"): (typeof documents)["\n  query MarketStateNow {\n    marketState { ...MarketStateFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription MarketStateFeed {\n    marketState { ...MarketStateFields }\n  }\n"): (typeof documents)["\n  subscription MarketStateFeed {\n    marketState { ...MarketStateFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment OrderFields on Order {\n    id\n    clientOrderId\n    status\n    side\n    quantity\n    type\n    timeInForce\n    limitPrice\n    stopPrice\n    trailPercent\n    trailAmount\n    price\n    total\n    rejectReason\n    reserved { cash shares }\n    replacedBy { id }\n    createdAt\n    updatedAt\n    executedAt\n    triggeredAt\n    expiresAt\n    canceledAt\n    stock { id symbol name }\n  }\n"): (typeof documents)["\n  fragment OrderFields on Order {\n    id\n    clientOrderId\n    status\n    side\n    quantity\n    type\n    timeInForce\n    limitPrice\n    stopPrice\n    trailPercent\n    trailAmount\n    price\n    total\n    rejectReason\n    reserved { cash shares }\n    replacedBy { id }\n    createdAt\n    updatedAt\n    executedAt\n    triggeredAt\n    expiresAt\n    canceledAt\n    stock { id symbol name }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment PositionFields on Position {\n    id\n    quantity\n    reservedQuantity\n    averageCost\n    currentPrice\n    marketValue\n    unrealizedPnl\n    unrealizedPnlPercent\n    realizedPnl\n    stock { id symbol name }\n  }\n"): (typeof documents)["\n  fragment PositionFields on Position {\n    id\n    quantity\n    reservedQuantity\n    averageCost\n    currentPrice\n    marketValue\n    unrealizedPnl\n    unrealizedPnlPercent\n    realizedPnl\n    stock { id symbol name }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription OrderUpdates {\n    orderUpdates {\n      order { ...OrderFields }\n      trade { id price quantity total executedAt }\n      cash { id balance reserved available }\n      position { ...PositionFields }\n    }\n  }\n"): (typeof documents)["\n  subscription OrderUpdates {\n    orderUpdates {\n      order { ...OrderFields }\n      trade { id price quantity total executedAt }\n      cash { id balance reserved available }\n      position { ...PositionFields }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment ViewerFields on User {\n    id\n    email\n    name\n    role\n  }\n"): (typeof documents)["\n  fragment ViewerFields on User {\n    id\n    email\n    name\n    role\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      accessToken\n      refreshToken\n      user { ...ViewerFields }\n      userErrors { field message code }\n    }\n  }\n"): (typeof documents)["\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      accessToken\n      refreshToken\n      user { ...ViewerFields }\n      userErrors { field message code }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      accessToken\n      refreshToken\n      user { ...ViewerFields }\n      userErrors { field message code }\n    }\n  }\n"): (typeof documents)["\n  mutation Register($input: RegisterInput!) {\n    register(input: $input) {\n      accessToken\n      refreshToken\n      user { ...ViewerFields }\n      userErrors { field message code }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RefreshToken($input: RefreshTokenInput!) {\n    refreshToken(input: $input) {\n      accessToken\n      refreshToken\n      user { ...ViewerFields }\n      userErrors { field message code }\n    }\n  }\n"): (typeof documents)["\n  mutation RefreshToken($input: RefreshTokenInput!) {\n    refreshToken(input: $input) {\n      accessToken\n      refreshToken\n      user { ...ViewerFields }\n      userErrors { field message code }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ChangePassword($input: ChangePasswordInput!) {\n    changePassword(input: $input) {\n      accessToken\n      refreshToken\n      user { ...ViewerFields }\n      userErrors { field message code }\n    }\n  }\n"): (typeof documents)["\n  mutation ChangePassword($input: ChangePasswordInput!) {\n    changePassword(input: $input) {\n      accessToken\n      refreshToken\n      user { ...ViewerFields }\n      userErrors { field message code }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Logout($input: LogoutInput!) {\n    logout(input: $input) { revoked userErrors { code message } }\n  }\n"): (typeof documents)["\n  mutation Logout($input: LogoutInput!) {\n    logout(input: $input) { revoked userErrors { code message } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CashPage($first: Int, $after: String, $last: Int, $before: String) {\n    cash { id balance reserved available }\n    cashTransactions(first: $first, after: $after, last: $last, before: $before) {\n      totalCount\n      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n      nodes { id type amount balanceAfter reference createdAt order { id } }\n    }\n  }\n"): (typeof documents)["\n  query CashPage($first: Int, $after: String, $last: Int, $before: String) {\n    cash { id balance reserved available }\n    cashTransactions(first: $first, after: $after, last: $last, before: $before) {\n      totalCount\n      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n      nodes { id type amount balanceAfter reference createdAt order { id } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Deposit($input: CashInput!) {\n    deposit(input: $input) {\n      cash { id balance reserved available }\n      userErrors { field message code }\n    }\n  }\n"): (typeof documents)["\n  mutation Deposit($input: CashInput!) {\n    deposit(input: $input) {\n      cash { id balance reserved available }\n      userErrors { field message code }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Withdraw($input: CashInput!) {\n    withdraw(input: $input) {\n      cash { id balance reserved available }\n      userErrors { field message code }\n    }\n  }\n"): (typeof documents)["\n  mutation Withdraw($input: CashInput!) {\n    withdraw(input: $input) {\n      cash { id balance reserved available }\n      userErrors { field message code }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment PortfolioHistoryPointFields on PortfolioHistoryPoint {\n    at\n    equity\n    cash\n    positionsValue\n    profitLoss\n    profitLossPercent\n    live\n  }\n"): (typeof documents)["\n  fragment PortfolioHistoryPointFields on PortfolioHistoryPoint {\n    at\n    equity\n    cash\n    positionsValue\n    profitLoss\n    profitLossPercent\n    live\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PortfolioHistory($period: HistoryPeriod!) {\n    portfolioHistory(period: $period) {\n      period\n      interval\n      baseValue\n      baseAt\n      points { ...PortfolioHistoryPointFields }\n    }\n  }\n"): (typeof documents)["\n  query PortfolioHistory($period: HistoryPeriod!) {\n    portfolioHistory(period: $period) {\n      period\n      interval\n      baseValue\n      baseAt\n      points { ...PortfolioHistoryPointFields }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription PortfolioHistoryFeed($period: HistoryPeriod!, $interval: HistoryInterval!) {\n    portfolioHistory(period: $period, interval: $interval) { ...PortfolioHistoryPointFields }\n  }\n"): (typeof documents)["\n  subscription PortfolioHistoryFeed($period: HistoryPeriod!, $interval: HistoryInterval!) {\n    portfolioHistory(period: $period, interval: $interval) { ...PortfolioHistoryPointFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment LeaderboardFields on Leaderboard {\n    period\n    asOf\n    totalCount\n    nodes { rank name returnPercent equity isViewer }\n    pageInfo { hasNextPage endCursor }\n  }\n"): (typeof documents)["\n  fragment LeaderboardFields on Leaderboard {\n    period\n    asOf\n    totalCount\n    nodes { rank name returnPercent equity isViewer }\n    pageInfo { hasNextPage endCursor }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query LeaderboardPage($period: HistoryPeriod!, $first: Int, $after: String) {\n    leaderboard(period: $period, first: $first, after: $after) { ...LeaderboardFields }\n  }\n"): (typeof documents)["\n  query LeaderboardPage($period: HistoryPeriod!, $first: Int, $after: String) {\n    leaderboard(period: $period, first: $first, after: $after) { ...LeaderboardFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription LeaderboardFeed($period: HistoryPeriod!) {\n    leaderboard(period: $period) { ...LeaderboardFields }\n  }\n"): (typeof documents)["\n  subscription LeaderboardFeed($period: HistoryPeriod!) {\n    leaderboard(period: $period) { ...LeaderboardFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query LeaderboardName {\n    me { id leaderboardName }\n  }\n"): (typeof documents)["\n  query LeaderboardName {\n    me { id leaderboardName }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateLeaderboardName($input: UpdateMeInput!) {\n    updateMe(input: $input) {\n      user { id leaderboardName }\n      userErrors { code field message }\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateLeaderboardName($input: UpdateMeInput!) {\n    updateMe(input: $input) {\n      user { id leaderboardName }\n      userErrors { code field message }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Market {\n    stocks { id symbol name price change changePercent trend active }\n  }\n"): (typeof documents)["\n  query Market {\n    stocks { id symbol name price change changePercent trend active }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription MarketTicks {\n    ticks {\n      seq\n      at\n      stocks { id price change changePercent high low updatedAt }\n    }\n  }\n"): (typeof documents)["\n  subscription MarketTicks {\n    ticks {\n      seq\n      at\n      stocks { id price change changePercent high low updatedAt }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ReplaceOrder($input: ReplaceOrderInput!) {\n    replaceOrder(input: $input) {\n      order { ...OrderFields }\n      replacedOrder { ...OrderFields }\n      cash { id balance reserved available }\n      position { ...PositionFields }\n      userErrors { field message code }\n    }\n  }\n"): (typeof documents)["\n  mutation ReplaceOrder($input: ReplaceOrderInput!) {\n    replaceOrder(input: $input) {\n      order { ...OrderFields }\n      replacedOrder { ...OrderFields }\n      cash { id balance reserved available }\n      position { ...PositionFields }\n      userErrors { field message code }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ModifyMarketOpen {\n    marketState { id isOpen }\n  }\n"): (typeof documents)["\n  query ModifyMarketOpen {\n    marketState { id isOpen }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Orders($status: OrderStatus, $first: Int, $after: String, $last: Int, $before: String) {\n    orders(status: $status, first: $first, after: $after, last: $last, before: $before) {\n      totalCount\n      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n      nodes { ...OrderFields }\n    }\n  }\n"): (typeof documents)["\n  query Orders($status: OrderStatus, $first: Int, $after: String, $last: Int, $before: String) {\n    orders(status: $status, first: $first, after: $after, last: $last, before: $before) {\n      totalCount\n      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n      nodes { ...OrderFields }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelOrder($input: CancelOrderInput!) {\n    cancelOrder(input: $input) {\n      order { ...OrderFields }\n      cash { id balance reserved available }\n      position { ...PositionFields }\n      userErrors { field message code }\n    }\n  }\n"): (typeof documents)["\n  mutation CancelOrder($input: CancelOrderInput!) {\n    cancelOrder(input: $input) {\n      order { ...OrderFields }\n      cash { id balance reserved available }\n      position { ...PositionFields }\n      userErrors { field message code }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment PortfolioFields on Portfolio {\n    id\n    totalValue\n    positionsValue\n    dayChange\n    unrealizedPnl\n    realizedPnl\n    updatedAt\n    cash { id balance reserved available }\n    positions { ...PositionFields }\n  }\n"): (typeof documents)["\n  fragment PortfolioFields on Portfolio {\n    id\n    totalValue\n    positionsValue\n    dayChange\n    unrealizedPnl\n    realizedPnl\n    updatedAt\n    cash { id balance reserved available }\n    positions { ...PositionFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PortfolioPage {\n    portfolio { ...PortfolioFields }\n  }\n"): (typeof documents)["\n  query PortfolioPage {\n    portfolio { ...PortfolioFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription PortfolioFeed {\n    portfolio { ...PortfolioFields }\n  }\n"): (typeof documents)["\n  subscription PortfolioFeed {\n    portfolio { ...PortfolioFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query StockPage($symbol: String!) {\n    stock(by: { symbol: $symbol }) {\n      id symbol name price change changePercent open high low previousClose active updatedAt\n    }\n  }\n"): (typeof documents)["\n  query StockPage($symbol: String!) {\n    stock(by: { symbol: $symbol }) {\n      id symbol name price change changePercent open high low previousClose active updatedAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query StockCandles($symbol: String!, $interval: CandleInterval!) {\n    candles(stock: { symbol: $symbol }, interval: $interval, last: 150) {\n      truncated\n      candles { id bucketStart open high low close isFinal }\n    }\n  }\n"): (typeof documents)["\n  query StockCandles($symbol: String!, $interval: CandleInterval!) {\n    candles(stock: { symbol: $symbol }, interval: $interval, last: 150) {\n      truncated\n      candles { id bucketStart open high low close isFinal }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription LiveCandle($symbol: String!, $interval: CandleInterval!) {\n    liveCandle(stocks: [{ symbol: $symbol }], interval: $interval) {\n      id bucketStart open high low close isFinal\n      stock { id price change changePercent open high low updatedAt }\n    }\n  }\n"): (typeof documents)["\n  subscription LiveCandle($symbol: String!, $interval: CandleInterval!) {\n    liveCandle(stocks: [{ symbol: $symbol }], interval: $interval) {\n      id bucketStart open high low close isFinal\n      stock { id price change changePercent open high low updatedAt }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Quote($input: QuoteInput!) {\n    quote(input: $input) {\n      price estimatedTotal cashAfter sharesAfter marketOpen executesNow problem problemCode\n    }\n  }\n"): (typeof documents)["\n  query Quote($input: QuoteInput!) {\n    quote(input: $input) {\n      price estimatedTotal cashAfter sharesAfter marketOpen executesNow problem problemCode\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) {\n      order { ...OrderFields }\n      trade { id price quantity total executedAt }\n      cash { id balance reserved available }\n      position { ...PositionFields }\n      userErrors { field message code }\n    }\n  }\n"): (typeof documents)["\n  mutation PlaceOrder($input: PlaceOrderInput!) {\n    placeOrder(input: $input) {\n      order { ...OrderFields }\n      trade { id price quantity total executedAt }\n      cash { id balance reserved available }\n      position { ...PositionFields }\n      userErrors { field message code }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query TicketMarketOpen {\n    marketState { id isOpen }\n  }\n"): (typeof documents)["\n  query TicketMarketOpen {\n    marketState { id isOpen }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AuditLog($action: AuditAction, $actorId: ID, $first: Int, $after: String, $last: Int, $before: String) {\n    auditLog(action: $action, actorId: $actorId, first: $first, after: $after, last: $last, before: $before) {\n      totalCount\n      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n      nodes { id action actionName actor { id email } targetType targetId before after clientAddr createdAt }\n    }\n  }\n"): (typeof documents)["\n  query AuditLog($action: AuditAction, $actorId: ID, $first: Int, $after: String, $last: Int, $before: String) {\n    auditLog(action: $action, actorId: $actorId, first: $first, after: $after, last: $last, before: $before) {\n      totalCount\n      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n      nodes { id action actionName actor { id email } targetType targetId before after clientAddr createdAt }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AuditActors {\n    users(role: ADMIN, first: 100) { nodes { id email } }\n  }\n"): (typeof documents)["\n  query AuditActors {\n    users(role: ADMIN, first: 100) { nodes { id email } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CandleStats {\n    candleStats { id interval count firstBucket lastBucket gaps stock { id symbol } }\n  }\n"): (typeof documents)["\n  query CandleStats {\n    candleStats { id interval count firstBucket lastBucket gaps stock { id symbol } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminMarket {\n    marketState { ...MarketStateFields }\n    marketHours { id day open close closed }\n    holidays { id date name kind closeTime }\n  }\n"): (typeof documents)["\n  query AdminMarket {\n    marketState { ...MarketStateFields }\n    marketHours { id day open close closed }\n    holidays { id date name kind closeTime }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminMarketCalendar($from: Date!, $to: Date!) {\n    marketCalendar(from: $from, to: $to) { date kind closeTime name source holiday { id } }\n  }\n"): (typeof documents)["\n  query AdminMarketCalendar($from: Date!, $to: Date!) {\n    marketCalendar(from: $from, to: $to) { date kind closeTime name source holiday { id } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateMarketHours($input: MarketHoursInput!) {\n    updateMarketHours(input: $input) {\n      marketDay { id day open close closed }\n      marketState { ...MarketStateFields }\n      userErrors { field message code }\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateMarketHours($input: MarketHoursInput!) {\n    updateMarketHours(input: $input) {\n      marketDay { id day open close closed }\n      marketState { ...MarketStateFields }\n      userErrors { field message code }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AddHoliday($input: HolidayInput!) {\n    addHoliday(input: $input) {\n      holiday { id date name kind closeTime }\n      marketState { ...MarketStateFields }\n      userErrors { field message code }\n    }\n  }\n"): (typeof documents)["\n  mutation AddHoliday($input: HolidayInput!) {\n    addHoliday(input: $input) {\n      holiday { id date name kind closeTime }\n      marketState { ...MarketStateFields }\n      userErrors { field message code }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteHoliday($input: DeleteHolidayInput!) {\n    deleteHoliday(input: $input) {\n      holiday { id }\n      marketState { ...MarketStateFields }\n      userErrors { field message code }\n    }\n  }\n"): (typeof documents)["\n  mutation DeleteHoliday($input: DeleteHolidayInput!) {\n    deleteHoliday(input: $input) {\n      holiday { id }\n      marketState { ...MarketStateFields }\n      userErrors { field message code }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetMarketOverride($input: MarketOverrideInput!) {\n    setMarketOverride(input: $input) {\n      marketState { ...MarketStateFields }\n      userErrors { field message code }\n    }\n  }\n"): (typeof documents)["\n  mutation SetMarketOverride($input: MarketOverrideInput!) {\n    setMarketOverride(input: $input) {\n      marketState { ...MarketStateFields }\n      userErrors { field message code }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ClearMarketOverride {\n    clearMarketOverride {\n      marketState { ...MarketStateFields }\n      userErrors { field message code }\n    }\n  }\n"): (typeof documents)["\n  mutation ClearMarketOverride {\n    clearMarketOverride {\n      marketState { ...MarketStateFields }\n      userErrors { field message code }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment StatsFields on AdminStats {\n    id\n    at\n    totalUsers\n    activeUsers\n    openConnections\n    openSubscriptions\n    ordersToday\n    tradedValueToday\n    queuedOrders\n  }\n"): (typeof documents)["\n  fragment StatsFields on AdminStats {\n    id\n    at\n    totalUsers\n    activeUsers\n    openConnections\n    openSubscriptions\n    ordersToday\n    tradedValueToday\n    queuedOrders\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminStatsNow {\n    adminStats { ...StatsFields }\n  }\n"): (typeof documents)["\n  query AdminStatsNow {\n    adminStats { ...StatsFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription AdminStatsFeed {\n    adminStats { ...StatsFields }\n  }\n"): (typeof documents)["\n  subscription AdminStatsFeed {\n    adminStats { ...StatsFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminStocks {\n    adminStocks { id databaseId symbol name price changePercent active updatedAt }\n  }\n"): (typeof documents)["\n  query AdminStocks {\n    adminStocks { id databaseId symbol name price changePercent active updatedAt }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateStock($input: CreateStockInput!) {\n    createStock(input: $input) {\n      stock { id databaseId symbol name price changePercent active updatedAt }\n      userErrors { field message code }\n    }\n  }\n"): (typeof documents)["\n  mutation CreateStock($input: CreateStockInput!) {\n    createStock(input: $input) {\n      stock { id databaseId symbol name price changePercent active updatedAt }\n      userErrors { field message code }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateStock($input: UpdateStockInput!) {\n    updateStock(input: $input) {\n      stock { id symbol name active price updatedAt }\n      userErrors { field message code }\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateStock($input: UpdateStockInput!) {\n    updateStock(input: $input) {\n      stock { id symbol name active price updatedAt }\n      userErrors { field message code }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminUsers($search: String, $role: Role, $active: Boolean, $first: Int, $after: String, $last: Int, $before: String) {\n    users(search: $search, role: $role, active: $active, first: $first, after: $after, last: $last, before: $before) {\n      totalCount\n      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n      nodes { id email name role active createdAt lastSeenAt cash { id balance } }\n    }\n  }\n"): (typeof documents)["\n  query AdminUsers($search: String, $role: Role, $active: Boolean, $first: Int, $after: String, $last: Int, $before: String) {\n    users(search: $search, role: $role, active: $active, first: $first, after: $after, last: $last, before: $before) {\n      totalCount\n      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n      nodes { id email name role active createdAt lastSeenAt cash { id balance } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AdminUser($id: ID!, $orderStatus: OrderStatus) {\n    user(id: $id) {\n      id databaseId email name role active createdAt lastSeenAt\n      cash { id balance reserved available }\n      portfolio { id totalValue unrealizedPnl realizedPnl positions { ...PositionFields } }\n      orders(first: 20, status: $orderStatus) { totalCount nodes { ...OrderFields } }\n    }\n  }\n"): (typeof documents)["\n  query AdminUser($id: ID!, $orderStatus: OrderStatus) {\n    user(id: $id) {\n      id databaseId email name role active createdAt lastSeenAt\n      cash { id balance reserved available }\n      portfolio { id totalValue unrealizedPnl realizedPnl positions { ...PositionFields } }\n      orders(first: 20, status: $orderStatus) { totalCount nodes { ...OrderFields } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateUser($input: UpdateUserInput!) {\n    updateUser(input: $input) {\n      user { id email name role active }\n      userErrors { field message code }\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateUser($input: UpdateUserInput!) {\n    updateUser(input: $input) {\n      user { id email name role active }\n      userErrors { field message code }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResetUserPassword($input: ResetUserPasswordInput!) {\n    resetUserPassword(input: $input) {\n      user { id }\n      temporaryPassword\n      userErrors { field message code }\n    }\n  }\n"): (typeof documents)["\n  mutation ResetUserPassword($input: ResetUserPasswordInput!) {\n    resetUserPassword(input: $input) {\n      user { id }\n      temporaryPassword\n      userErrors { field message code }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelUserOrder($input: CancelUserOrderInput!) {\n    cancelUserOrder(input: $input) {\n      order { ...OrderFields }\n      userErrors { field message code }\n    }\n  }\n"): (typeof documents)["\n  mutation CancelUserOrder($input: CancelUserOrderInput!) {\n    cancelUserOrder(input: $input) {\n      order { ...OrderFields }\n      userErrors { field message code }\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;