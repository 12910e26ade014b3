/**
 * What a function does with the gateway's connections, so the gateway can grant exactly that.
 *
 * Each permission is the least privilege for the `wsgate/runtime` calls named below; give the ones your
 * function uses to `RouteHandler.fromFunction(fn, { permissions })` or `WebSocketGateway.grant(...)`.
 */
export enum GatewayPermission {
  /**
   * Record a connection (`recordConnection` in `$connect`): `dynamodb:PutItem` on the connections table.
   */
  RECORD_CONNECTIONS = 'RECORD_CONNECTIONS',

  /**
   * Remove a connection and all its room memberships (`removeConnection` in `$disconnect`):
   * `dynamodb:Query` and `BatchWriteItem` on the connections table.
   */
  REMOVE_CONNECTIONS = 'REMOVE_CONNECTIONS',

  /**
   * Join and leave rooms (`joinRoom`, `leaveRoom`): `dynamodb:GetItem`, `PutItem` and `DeleteItem` on the
   * connections table.
   */
  MANAGE_ROOMS = 'MANAGE_ROOMS',

  /**
   * Read connections and room members (`getConnection`, `roomMembers`, and the audience of `sendToRoom` and
   * `broadcast`): `dynamodb:GetItem`, `Query` and `Scan` on the connections table and `Query` on its room index.
   */
  READ_CONNECTIONS = 'READ_CONNECTIONS',

  /**
   * Send to connections (`send`, `sendToRoom`, `broadcast`): `execute-api:ManageConnections` on this stage's
   * `POST/@connections/*` only, plus what `REMOVE_CONNECTIONS` allows, because a connection that turns out
   * to be gone (410) is removed.
   */
  POST_TO_CONNECTIONS = 'POST_TO_CONNECTIONS',

  /**
   * Close connections from the server (`close`; API Gateway then runs `$disconnect`):
   * `execute-api:ManageConnections` on this stage's `DELETE/@connections/*` only.
   */
  CLOSE_CONNECTIONS = 'CLOSE_CONNECTIONS',
}
