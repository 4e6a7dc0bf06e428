// SPDX-License-Identifier: Apache-2.0
// A CADENA-style AEO registry: each customs administration certifies, suspends,
// cancels and reinstates its own AEO certificates; records relayed from another
// administration's network are mirrored by registered relayers; MRAs are recorded.
// Invariant: writing the same record version twice changes nothing (no state change,
// no event), and only the issuing administration (or a relayer on its behalf) can
// change a certificate.
pragma solidity ^0.8.20;

contract AEORegistry {
    uint8 public constant CERTIFIED = 1;
    uint8 public constant SUSPENDED = 2;
    uint8 public constant CANCELLED = 3;

    struct Cert {
        address admin;      // the issuing administration
        address holder;
        uint8 status;
        uint64 effective;   // unix seconds
        bytes32 recordHash; // hash of the full canonical record
        uint64 version;
    }

    address public owner;
    mapping(address => string) public administrations; // account -> country code
    mapping(address => bool) public relayers;
    mapping(bytes32 => Cert) public certs;
    mapping(bytes32 => bool) public mras;

    event AdministrationAdded(address indexed admin, string country);
    event RelayerAdded(address indexed relayer);
    event StatusChanged(bytes32 indexed certId, address indexed admin, address indexed holder,
                        uint8 status, uint64 effective, bytes32 recordHash, uint64 version);
    event MRARecorded(address indexed admin, address indexed partner);

    constructor() { owner = msg.sender; }

    modifier onlyOwner() { require(msg.sender == owner, "not the owner"); _; }

    function addAdministration(address admin, string calldata country) external onlyOwner {
        administrations[admin] = country;
        emit AdministrationAdded(admin, country);
    }

    function addRelayer(address relayer) external onlyOwner {
        relayers[relayer] = true;
        emit RelayerAdded(relayer);
    }

    function recordMRA(address partner) external {
        require(bytes(administrations[msg.sender]).length > 0, "not an administration");
        bytes32 k = keccak256(abi.encodePacked(msg.sender, partner));
        if (mras[k]) return;
        mras[k] = true;
        emit MRARecorded(msg.sender, partner);
    }

    function certify(bytes32 id, address holder, uint64 effective, bytes32 recordHash, uint64 version) external {
        _change(id, msg.sender, holder, CERTIFIED, effective, recordHash, version, true);
    }

    function suspend(bytes32 id, uint64 effective, bytes32 recordHash, uint64 version) external {
        _change(id, msg.sender, certs[id].holder, SUSPENDED, effective, recordHash, version, true);
    }

    function cancel(bytes32 id, uint64 effective, bytes32 recordHash, uint64 version) external {
        _change(id, msg.sender, certs[id].holder, CANCELLED, effective, recordHash, version, true);
    }

    function reinstate(bytes32 id, uint64 effective, bytes32 recordHash, uint64 version) external {
        require(certs[id].status == SUSPENDED, "not suspended");
        _change(id, msg.sender, certs[id].holder, CERTIFIED, effective, recordHash, version, true);
    }

    /// A record from another network, written by a relayer on the issuing administration's behalf.
    function mirror(bytes32 id, address admin, address holder, uint8 status, uint64 effective,
                    bytes32 recordHash, uint64 version) external {
        require(relayers[msg.sender], "not a relayer");
        _change(id, admin, holder, status, effective, recordHash, version, false);
    }

    function _change(bytes32 id, address admin, address holder, uint8 status, uint64 effective,
                     bytes32 recordHash, uint64 version, bool own) internal {
        if (own) require(bytes(administrations[admin]).length > 0, "not an administration");
        require(status >= CERTIFIED && status <= CANCELLED, "bad status");
        Cert storage c = certs[id];
        require(c.admin == address(0) || c.admin == admin, "not the issuing administration");
        if (c.version == version && c.recordHash == recordHash && c.admin != address(0)) return;
        require(version > c.version, "stale version");
        require(c.status != CANCELLED, "cancelled");
        c.admin = admin;
        c.holder = holder;
        c.status = status;
        c.effective = effective;
        c.recordHash = recordHash;
        c.version = version;
        emit StatusChanged(id, admin, holder, status, effective, recordHash, version);
    }
}
